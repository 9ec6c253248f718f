"""The base of every model: frozen, strict about unknown fields, camelCase on the wire.

Scalar aliases mirror OpenAPI/JSON typing as the API server applies it: an `integer` field rejects
the string "3" and the float 1.5; a `string` field rejects 3. That is why the aliases are strict."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from pydantic.alias_generators import to_camel

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class Int32Format:
    """Marker for `format: int32` in generated CRDs."""


class Int64Format:
    """Marker for `format: int64` in generated CRDs."""


class DateTimeFormat:
    """Marker for `format: date-time` (metav1.Time) in generated CRDs."""


Int32 = Annotated[StrictInt, Field(ge=INT32_MIN, le=INT32_MAX), Int32Format()]
Int64 = Annotated[StrictInt, Field(ge=INT64_MIN, le=INT64_MAX), Int64Format()]
Str = StrictStr
Bool = StrictBool
Number = Annotated[float | StrictInt, Field()]
Time = Annotated[StrictStr, DateTimeFormat()]
"""metav1.Time on the wire: an RFC 3339 string (kept as text so dumping round-trips exactly)."""
JsonObject = dict[str, Any]
"""A sub-object we do not model field by field (accepted as the API server would, unchecked)."""


class KubeModel(BaseModel):
    """Frozen pydantic model with Kubernetes' wire spelling (camelCase) and unknown fields forbidden."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        use_enum_values=False,
        validate_default=False,
        # JSON has no NaN or Infinity: a real API server never receives them (sigs.k8s.io/yaml fails
        # to convert a YAML .nan to JSON), so they are refused like any other invalid number
        allow_inf_nan=False,
    )

    def to_wire(self) -> dict[str, Any]:
        """Wire-form dict (camelCase keys, only fields that were set or defaulted by the CRD)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class CrdRequired:
    """Marker: the CRD lists this field as required even though it has a default
    (controller-gen emits both for `+kubebuilder:default` on a non-omitempty field; the API server
    applies the default before checking required, so omitting it is fine)."""


class CrdExtra:
    """Marker carrying extra OpenAPI keys for a generated CRD (e.g. `x-kubernetes-map-type`)."""

    def __init__(self, **keys: object) -> None:
        self.keys = {k.replace("_", "-"): v for k, v in keys.items()}
