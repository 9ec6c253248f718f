"""core/v1: Pod (and its template), Container with probes, Service, Node.

Fields the simulation reads are modelled; the many other PodSpec fields a real manifest may carry
(volumes, affinity, securityContext...) are accepted as unchecked objects so that real manifests
validate, as they would on a real API server."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from model.base import Bool, Int32, Int64, JsonObject, KubeModel, Str, Time
from model.meta import LabelSelector, ObjectMeta
from model.quantity import Quantity

IntOrString = Int32 | Str
Port = Annotated[Int32, Field(ge=1, le=65535)]


class ResourceRequirements(KubeModel):
    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None
    claims: list[JsonObject] | None = None


class HTTPGetAction(KubeModel):
    path: Str | None = None
    port: IntOrString
    host: Str | None = None
    scheme: Literal["HTTP", "HTTPS"] | None = None
    http_headers: list[JsonObject] | None = None


class TCPSocketAction(KubeModel):
    port: IntOrString
    host: Str | None = None


class ExecAction(KubeModel):
    command: list[Str] | None = None


class GRPCAction(KubeModel):
    port: Int32
    service: Str | None = None


class Probe(KubeModel):
    """A readiness/liveness/startup probe; the kubelet simulation honours the timing fields."""

    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    exec: ExecAction | None = None
    grpc: GRPCAction | None = None
    initial_delay_seconds: Annotated[Int32, Field(ge=0)] | None = None
    timeout_seconds: Annotated[Int32, Field(ge=1)] | None = None
    period_seconds: Annotated[Int32, Field(ge=1)] | None = None
    success_threshold: Annotated[Int32, Field(ge=1)] | None = None
    failure_threshold: Annotated[Int32, Field(ge=1)] | None = None
    termination_grace_period_seconds: Int64 | None = None


class Protocol(StrEnum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


class ContainerPort(KubeModel):
    container_port: Port
    name: Str | None = None
    protocol: Protocol | None = None
    host_port: Int32 | None = None
    host_ip: Annotated[Str | None, Field(alias="hostIP")] = None


class EnvVar(KubeModel):
    name: Str
    value: Str | None = None
    value_from: JsonObject | None = None


class PullPolicy(StrEnum):
    ALWAYS = "Always"
    IF_NOT_PRESENT = "IfNotPresent"
    NEVER = "Never"


class Container(KubeModel):
    name: Str
    image: Str | None = None
    command: list[Str] | None = None
    args: list[Str] | None = None
    working_dir: Str | None = None
    ports: list[ContainerPort] | None = None
    env: list[EnvVar] | None = None
    env_from: list[JsonObject] | None = None
    resources: ResourceRequirements | None = None
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: JsonObject | None = None
    volume_mounts: list[JsonObject] | None = None
    image_pull_policy: PullPolicy | None = None
    security_context: JsonObject | None = None
    termination_message_path: Str | None = None
    termination_message_policy: Str | None = None
    stdin: Bool | None = None
    tty: Bool | None = None
    restart_policy: Str | None = None


class RestartPolicy(StrEnum):
    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    NEVER = "Never"


class PodSpec(KubeModel):
    containers: Annotated[list[Container], Field(min_length=1)]
    init_containers: list[Container] | None = None
    restart_policy: RestartPolicy | None = None
    termination_grace_period_seconds: Int64 | None = None
    active_deadline_seconds: Int64 | None = None
    node_selector: dict[str, Str] | None = None
    node_name: Str | None = None
    service_account_name: Str | None = None
    service_account: Str | None = None
    scheduler_name: Str | None = None
    priority_class_name: Str | None = None
    priority: Int32 | None = None
    host_network: Bool | None = None
    dns_policy: Str | None = None
    tolerations: list[JsonObject] | None = None
    affinity: JsonObject | None = None
    volumes: list[JsonObject] | None = None
    security_context: JsonObject | None = None
    image_pull_secrets: list[JsonObject] | None = None
    topology_spread_constraints: list[JsonObject] | None = None
    runtime_class_name: Str | None = None
    enable_service_links: Bool | None = None
    hostname: Str | None = None
    subdomain: Str | None = None
    automount_service_account_token: Bool | None = None
    share_process_namespace: Bool | None = None
    overhead: dict[str, Quantity] | None = None
    readiness_gates: list[JsonObject] | None = None


class TemplateMeta(KubeModel):
    """Metadata in a pod template: like ObjectMeta but without a defaulted namespace."""

    name: Str | None = None
    namespace: Str | None = None
    labels: dict[str, Str] | None = None
    annotations: dict[str, Str] | None = None
    creation_timestamp: Time | None = None


class PodTemplateSpec(KubeModel):
    metadata: TemplateMeta | None = None
    spec: PodSpec | None = None


class PodPhase(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    UNKNOWN = "Unknown"


class PodConditionType(StrEnum):
    POD_SCHEDULED = "PodScheduled"
    INITIALIZED = "Initialized"
    CONTAINERS_READY = "ContainersReady"
    READY = "Ready"
    POD_READY_TO_START_CONTAINERS = "PodReadyToStartContainers"
    DISRUPTION_TARGET = "DisruptionTarget"


class PodCondition(KubeModel):
    type: Str
    status: Literal["True", "False", "Unknown"]
    last_probe_time: Time | None = None
    last_transition_time: Time | None = None
    reason: Str | None = None
    message: Str | None = None


class ContainerStatus(KubeModel):
    name: Str
    ready: Bool
    restart_count: Int32
    started: Bool | None = None
    image: Str | None = None
    image_id: Annotated[Str | None, Field(alias="imageID")] = None
    container_id: Annotated[Str | None, Field(alias="containerID")] = None
    state: JsonObject | None = None
    last_state: JsonObject | None = None


class PodStatus(KubeModel):
    phase: PodPhase | None = None
    conditions: list[PodCondition] | None = None
    start_time: Time | None = None
    container_statuses: list[ContainerStatus] | None = None
    init_container_statuses: list[ContainerStatus] | None = None
    host_ip: Annotated[Str | None, Field(alias="hostIP")] = None
    pod_ip: Annotated[Str | None, Field(alias="podIP")] = None
    pod_ips: Annotated[list[JsonObject] | None, Field(alias="podIPs")] = None
    reason: Str | None = None
    message: Str | None = None
    qos_class: Annotated[Str | None, Field(alias="qosClass")] = None


class Pod(KubeModel):
    api_version: Literal["v1"]
    kind: Literal["Pod"]
    metadata: ObjectMeta
    spec: PodSpec
    status: PodStatus | None = None


class ServiceType(StrEnum):
    CLUSTER_IP = "ClusterIP"
    NODE_PORT = "NodePort"
    LOAD_BALANCER = "LoadBalancer"
    EXTERNAL_NAME = "ExternalName"


class ServicePort(KubeModel):
    port: Port
    target_port: IntOrString | None = None
    name: Str | None = None
    protocol: Protocol | None = None
    node_port: Int32 | None = None
    app_protocol: Str | None = None


class ServiceSpec(KubeModel):
    """`clusterIP: None` makes a headless Service (the PR uses it for worker roles)."""

    type: ServiceType | None = None
    selector: dict[str, Str] | None = None
    ports: list[ServicePort] | None = None
    cluster_ip: Annotated[Str | None, Field(alias="clusterIP")] = None
    cluster_ips: Annotated[list[Str] | None, Field(alias="clusterIPs")] = None
    session_affinity: Str | None = None
    publish_not_ready_addresses: Bool | None = None
    external_name: Str | None = None
    internal_traffic_policy: Str | None = None
    ip_families: list[Str] | None = None
    ip_family_policy: Str | None = None


class Service(KubeModel):
    api_version: Literal["v1"]
    kind: Literal["Service"]
    metadata: ObjectMeta
    spec: ServiceSpec | None = None
    status: JsonObject | None = None


class NodeSpec(KubeModel):
    unschedulable: Bool | None = None
    taints: list[JsonObject] | None = None
    pod_cidr: Annotated[Str | None, Field(alias="podCIDR")] = None
    provider_id: Annotated[Str | None, Field(alias="providerID")] = None


class NodeStatus(KubeModel):
    capacity: dict[str, Quantity] | None = None
    allocatable: dict[str, Quantity] | None = None
    conditions: list[PodCondition] | None = None
    addresses: list[JsonObject] | None = None
    node_info: JsonObject | None = None


class NodeMeta(ObjectMeta):
    """Nodes are cluster-scoped: no namespace default."""

    namespace: Str = ""


class Node(KubeModel):
    api_version: Literal["v1"]
    kind: Literal["Node"]
    metadata: NodeMeta
    spec: NodeSpec | None = None
    status: NodeStatus | None = None


__all__ = [
    "Container",
    "LabelSelector",
    "Node",
    "Pod",
    "PodPhase",
    "PodSpec",
    "PodTemplateSpec",
    "Probe",
    "Service",
    "ServiceType",
]


class ConfigMap(KubeModel):
    """core/v1 ConfigMap (the BudAIScaler learning data is stored in one, upstream learning/storage.go)."""

    api_version: Literal["v1"]
    kind: Literal["ConfigMap"]
    metadata: ObjectMeta
    data: dict[str, str] | None = None
    binary_data: dict[str, str] | None = None
    immutable: Bool | None = None
