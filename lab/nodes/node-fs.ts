/**
 * A simulated node's filesystem: a real directory tree under `root`, laid out as on a kubelet host.
 *
 *   <root>/var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log     container logs (CRI)
 *   <root>/var/lib/vector/...                                          hostPath volumes map to <root>/<path>
 *   <root>/var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~secret/<volume>/<key>
 *   <root>/var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~empty-dir/<volume>/
 *   <root>/var/lib/kubelet/pods/<uid>/containers/<container>/termination-log
 *
 * Invariants:
 * - Every path a simulated container touches resolves under `root` (see lab/common/mounts.ts): the machine's real
 *   /var/log and /var/lib are never used.
 * - Secret files are replaced atomically (tmp, then rename), and rewritten only when their bytes change, so a
 *   config watcher sees one change per Secret update.
 * - Projected volumes (the ServiceAccount token, the root CA, the namespace) are written once, at pod start; the
 *   kubelet's token refresh before expiry is not simulated (a stand runs for minutes, a token lasts an hour).
 * - A volume kind the stand does not model is an error naming the volume, not a silently empty directory.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import type { Mount } from '../common/mounts.ts';

export class NodeFs {
  readonly name: string;
  readonly root: string;

  constructor(name: string, root: string) {
    this.name = name;
    this.root = root;
    mkdirSync(join(root, 'var/log/pods'), { recursive: true });
  }

  hostPath(p: string): string {
    return join(this.root, p);
  }

  podDir(uid: string): string {
    return join(this.root, 'var/lib/kubelet/pods', uid);
  }

  podLogDir(ns: string, pod: string, uid: string): string {
    return join(this.root, 'var/log/pods', `${ns}_${pod}_${uid}`);
  }

  terminationLog(uid: string, container: string): string {
    return join(this.podDir(uid), 'containers', container, 'termination-log');
  }
}

export interface PreparedVolume {
  hostPath: string;
  /** For Secret volumes: the Secret to keep the files in sync with. */
  secret?: { name: string; items?: k8s.V1KeyToPath[] };
}

/** Writes a Secret's keys (or its `items`) as files; returns whether any file changed. */
export function writeSecretFiles(dir: string, secret: k8s.V1Secret, items?: k8s.V1KeyToPath[]): boolean {
  mkdirSync(dir, { recursive: true });
  const data = secret.data ?? {};
  const entries = items === undefined ? Object.keys(data).map((k) => ({ key: k, path: k })) : items;
  const files = new Map<string, Buffer>();
  for (const { key, path } of entries) {
    const b64 = data[key];
    if (b64 !== undefined) files.set(path, Buffer.from(b64, 'base64'));
  }
  return writeFiles(dir, files);
}

/** What a kubelet reads from the API server to fill volumes; `undefined` means the object does not exist. */
export interface VolumeSources {
  secret(namespace: string, name: string): Promise<k8s.V1Secret | undefined>;
  configMap(namespace: string, name: string): Promise<k8s.V1ConfigMap | undefined>;
  /** A token for the ServiceAccount, bound to the pod (TokenRequest), as the kubelet mounts it. */
  token(namespace: string, serviceAccount: string, source: k8s.V1ServiceAccountTokenProjection): Promise<string>;
}

/** Writes `files` (relative path -> bytes) under `dir`, each replaced atomically only when its bytes change. */
function writeFiles(dir: string, files: Map<string, Buffer>): boolean {
  let changed = false;
  for (const [path, bytes] of files) {
    const file = join(dir, path);
    if (existsSync(file) && readFileSync(file).equals(bytes)) continue;
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(`${file}.tmp`, bytes);
    renameSync(`${file}.tmp`, file);
    changed = true;
  }
  return changed;
}

/** The downward API's pod fields the stand knows. */
function podField(pod: k8s.V1Pod, path: string): string {
  const m = pod.metadata;
  const known: Record<string, string | undefined> = {
    'metadata.name': m?.name,
    'metadata.namespace': m?.namespace,
    'metadata.uid': m?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
  };
  const v = known[path];
  if (v === undefined) throw new Error(`downward API field ${path} is not simulated`);
  return v;
}

/**
 * A projected volume (what ServiceAccount admission adds as `kube-api-access-*`): a bound token, ConfigMap keys and
 * downward API fields, as files. A missing ConfigMap that is not optional keeps the pod from starting, as it does
 * the kubelet (the root CA ConfigMap appears once the controller manager has published it).
 */
async function projectedFiles(
  pod: k8s.V1Pod,
  v: k8s.V1ProjectedVolumeSource,
  from: VolumeSources,
): Promise<Map<string, Buffer>> {
  const ns = pod.metadata?.namespace ?? 'default';
  const files = new Map<string, Buffer>();
  for (const src of v.sources ?? []) {
    if (src.serviceAccountToken !== undefined) {
      const token = await from.token(ns, pod.spec?.serviceAccountName ?? 'default', src.serviceAccountToken);
      files.set(src.serviceAccountToken.path, Buffer.from(token));
    } else if (src.configMap !== undefined) {
      const name = src.configMap.name ?? '';
      const cm = await from.configMap(ns, name);
      if (cm === undefined && src.configMap.optional !== true) throw new Error(`configmap "${name}" not found`);
      const data = cm?.data ?? {};
      for (const { key, path } of src.configMap.items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
        const text = data[key];
        if (text !== undefined) files.set(path, Buffer.from(text));
      }
    } else if (src.downwardAPI !== undefined) {
      for (const item of src.downwardAPI.items ?? []) {
        if (item.fieldRef === undefined) throw new Error(`downward API item ${item.path}: only fieldRef is simulated`);
        files.set(item.path, Buffer.from(podField(pod, item.fieldRef.fieldPath)));
      }
    } else {
      throw new Error('a projected volume source other than serviceAccountToken, configMap or downwardAPI');
    }
  }
  return files;
}

/**
 * Materialises the pod's volumes on the node. A Secret or ConfigMap that does not exist keeps the pod from starting
 * (the kubelet retries), unless the volume is optional.
 */
export async function prepareVolumes(
  node: NodeFs,
  pod: k8s.V1Pod,
  from: VolumeSources,
): Promise<Map<string, PreparedVolume>> {
  const uid = pod.metadata?.uid ?? '';
  const ns = pod.metadata?.namespace ?? 'default';
  const out = new Map<string, PreparedVolume>();
  for (const v of pod.spec?.volumes ?? []) {
    if (v.hostPath !== undefined) {
      const p = node.hostPath(v.hostPath.path);
      mkdirSync(p, { recursive: true });
      out.set(v.name, { hostPath: p });
    } else if (v.secret !== undefined) {
      const name = v.secret.secretName ?? '';
      const dir = join(node.podDir(uid), 'volumes/kubernetes.io~secret', v.name);
      const secret = await from.secret(ns, name);
      if (secret === undefined && v.secret.optional !== true)
        throw new Error(`secret "${name}" not found (volume ${v.name})`);
      if (secret === undefined) mkdirSync(dir, { recursive: true });
      else writeSecretFiles(dir, secret, v.secret.items);
      out.set(v.name, { hostPath: dir, secret: { name, items: v.secret.items } });
    } else if (v.emptyDir !== undefined) {
      const dir = join(node.podDir(uid), 'volumes/kubernetes.io~empty-dir', v.name);
      mkdirSync(dir, { recursive: true });
      out.set(v.name, { hostPath: dir });
    } else if (v.projected !== undefined) {
      const dir = join(node.podDir(uid), 'volumes/kubernetes.io~projected', v.name);
      mkdirSync(dir, { recursive: true });
      try {
        writeFiles(dir, await projectedFiles(pod, v.projected, from));
      } catch (err) {
        throw new Error(`volume ${v.name}: ${(err as Error).message}`, { cause: err });
      }
      out.set(v.name, { hostPath: dir });
    } else {
      throw new Error(`volume ${v.name}: only hostPath, secret, emptyDir and projected volumes are simulated`);
    }
  }
  return out;
}

/** The container's mount table, plus its termination-message file. */
export function containerMounts(
  c: k8s.V1Container,
  volumes: Map<string, PreparedVolume>,
  terminationLog: string,
): Mount[] {
  const mounts: Mount[] = [];
  for (const m of c.volumeMounts ?? []) {
    const v = volumes.get(m.name);
    if (v === undefined) throw new Error(`container ${c.name}: volumeMount ${m.name} names no volume`);
    mounts.push({ containerPath: m.mountPath, hostPath: m.subPath ? join(v.hostPath, m.subPath) : v.hostPath });
  }
  mounts.push({ containerPath: c.terminationMessagePath ?? '/dev/termination-log', hostPath: terminationLog });
  return mounts;
}
