/**
 * What a simulated node shows the API server, as plain data: its Node object, its status as a kubelet reports it,
 * its Lease in `kube-node-lease`, and the addresses it hands out. No I/O here (heartbeat.ts and kubelet.ts write).
 *
 * Invariants:
 * - Addresses follow from the node's index alone, so every process of the stand agrees on them without talking:
 *   node i has InternalIP 172.16.0.0/12 + i + 1 and the pod range 10.128.0.0/9 + i * 256 (a /24), up to 32 768 nodes.
 *   Neither overlaps the service range (10.0.0.0/24) of the real control plane.
 * - The status is what the kubelet's node status setters write (Ready, the pressure conditions, capacity and
 *   allocatable, addresses, daemon endpoint, node info), with capacity large enough that the scheduler never refuses
 *   a pod of the stand for resources: the workload binds its pods directly, and they count against `pods`.
 * - Plain JSON, sent as is (client-node's models would turn the times into Date objects and back).
 * - Times: conditions carry RFC 3339 seconds; a Lease's `renewTime` and `acquireTime` are MicroTime, with exactly six
 *   fractional digits, as kube-apiserver parses them.
 */

export const maxNodes = 32_768;
export const leaseNamespace = 'kube-node-lease';
/** The kubelet's defaults: a 40 s lease, renewed every quarter of it. */
export const leaseDurationSeconds = 40;
export const leaseRenewMs = (leaseDurationSeconds * 1000) / 4;

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= maxNodes)
    throw new Error(`node index ${index} is outside 0..${maxNodes - 1}`);
}

/** InternalIP of node `index`: 172.16.0.1, 172.16.0.2, … */
export function nodeIP(index: number): string {
  checkIndex(index);
  const n = index + 1;
  return `172.${16 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/** The node's pod range, a /24 of 10.128.0.0/9. */
export function podCidr(index: number): string {
  checkIndex(index);
  return `10.${128 + (index >> 8)}.${index & 255}.0/24`;
}

/** The `slot`-th pod IP of node `index`: .2 to .254 of its range, round robin (a slot is never held long here). */
export function podIP(index: number, slot: number): string {
  checkIndex(index);
  return `10.${128 + (index >> 8)}.${index & 255}.${2 + (slot % 253)}`;
}

export const nodeCapacity: Record<string, string> = {
  cpu: '32',
  memory: '128Gi',
  'ephemeral-storage': '1Ti',
  pods: '10000',
};

/** A Lease's MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** RFC 3339 without fractional seconds, as metav1.Time serialises. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The Node object a kubelet registers (labels, pod range; status as `nodeStatus`). */
export function nodeObject(name: string, index: number, now: Date) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
      },
    },
    spec: { podCIDR: podCidr(index), podCIDRs: [podCidr(index)] },
    status: nodeStatus(name, index, now, now),
  };
}

/**
 * The kubelet's view of its node: Ready since `since`, heartbeat `now`. Written whole through `nodes/status`, so a
 * re-registration after a stand restart converges too.
 */
export function nodeStatus(name: string, index: number, since: Date, now: Date) {
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: rfc3339(now),
    lastTransitionTime: rfc3339(since),
  });
  return {
    capacity: { ...nodeCapacity },
    allocatable: { ...nodeCapacity },
    conditions: [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: nodeIP(index) },
      { type: 'Hostname', address: name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: '',
      systemUUID: '',
      bootID: '',
      kernelVersion: 'lab',
      osImage: 'vector-operator lab node',
      containerRuntimeVersion: 'lab://1',
      kubeletVersion: 'lab',
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/** The node's Lease: held by the node, owned by it (so the garbage collector removes it with the Node). */
export function leaseObject(name: string, nodeUid: string, now: Date) {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: leaseNamespace,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: nodeUid }],
    },
    spec: {
      holderIdentity: name,
      leaseDurationSeconds,
      renewTime: microTime(now),
    },
  };
}
