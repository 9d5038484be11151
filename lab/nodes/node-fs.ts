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
  let changed = false;
  for (const { key, path } of entries) {
    const b64 = data[key];
    if (b64 === undefined) continue;
    const bytes = Buffer.from(b64, 'base64');
    const file = join(dir, path);
    if (existsSync(file) && readFileSync(file).equals(bytes)) continue;
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(`${file}.tmp`, bytes);
    renameSync(`${file}.tmp`, file);
    changed = true;
  }
  return changed;
}

/**
 * Materialises the pod's volumes on the node. `getSecret` returns undefined when the Secret does not exist; the
 * pod then cannot start (the kubelet retries), unless the volume is optional.
 */
export async function prepareVolumes(
  node: NodeFs,
  pod: k8s.V1Pod,
  getSecret: (namespace: string, name: string) => Promise<k8s.V1Secret | undefined>,
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
      const secret = await getSecret(ns, name);
      if (secret === undefined && v.secret.optional !== true)
        throw new Error(`secret "${name}" not found (volume ${v.name})`);
      if (secret === undefined) mkdirSync(dir, { recursive: true });
      else writeSecretFiles(dir, secret, v.secret.items);
      out.set(v.name, { hostPath: dir, secret: { name, items: v.secret.items } });
    } else if (v.emptyDir !== undefined) {
      const dir = join(node.podDir(uid), 'volumes/kubernetes.io~empty-dir', v.name);
      mkdirSync(dir, { recursive: true });
      out.set(v.name, { hostPath: dir });
    } else {
      throw new Error(`volume ${v.name}: only hostPath, secret and emptyDir volumes are simulated`);
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
