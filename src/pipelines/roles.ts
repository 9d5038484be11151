/**
 * Pipeline role from its source types, as kaasops classifies it (internal/config/vector_source_types.go).
 *
 * Invariants:
 * - Every agent type also counts as an aggregator type (kaasops' fallthrough), so an all-agent pipeline is `agent`.
 * - Do better than kaasops: a mix of agent-only and aggregator-only types is rejected, not silently classified
 *   `aggregator`; an unknown type is rejected with its name.
 */

const agentTypes = new Set([
  'apache_metrics',
  'dnstap',
  'demo_logs',
  'docker_logs',
  'eventstoredb_metrics',
  'file',
  'http_client',
  'host_metrics',
  'internal_logs',
  'internal_metrics',
  'journald',
  'kubernetes_logs',
  'mongodb_metrics',
  'nginx_metrics',
  'opentelemetry',
  'postgresql_metrics',
  'prometheus_pushgateway',
  'prometheus_remote_write',
  'prometheus_scrape',
]);

const aggregatorTypes = new Set([
  'amqp',
  'aws_s3',
  'aws_sqs',
  'aws_kinesis_firehose',
  'datadog_agent',
  'fluent',
  'gcp_pubsub',
  'http_client',
  'http_server',
  'heroku_logs',
  'internal_logs',
  'internal_metrics',
  'kafka',
  'logstash',
  'nats',
  'opentelemetry',
  'pulsar',
  'redis',
  'socket',
  'splunk_hec',
  'statsd',
  'syslog',
  'vector',
  'kubernetes_events',
]);

export type RoleResult = { role: 'agent' | 'aggregator' } | { role: 'invalid'; key: string; reason: string };

/** `sources` are `[key, type]` pairs; the result names the offending key. */
export function pipelineRole(sources: readonly (readonly [string, string])[]): RoleResult {
  let agentOnly: readonly [string, string] | undefined;
  let aggregatorOnly: readonly [string, string] | undefined;
  for (const entry of sources) {
    const [key, t] = entry;
    const agent = agentTypes.has(t);
    const aggregator = aggregatorTypes.has(t);
    if (!agent && !aggregator) return { role: 'invalid', key, reason: `unknown source type '${t}'` };
    if (agent && !aggregator) agentOnly ??= entry;
    if (aggregator && !agent) aggregatorOnly ??= entry;
  }
  if (agentOnly !== undefined && aggregatorOnly !== undefined) {
    return {
      role: 'invalid',
      key: aggregatorOnly[0],
      reason: `'${aggregatorOnly[1]}' is an aggregator-only type mixed with the agent-only type '${agentOnly[1]}' (spec.sources.${agentOnly[0]}); split the pipeline`,
    };
  }
  return { role: aggregatorOnly !== undefined ? 'aggregator' : 'agent' };
}
