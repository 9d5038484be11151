/**
 * The kaasops/vector-operator flags that have no older counterpart here: metrics security and HTTP/2, `--watch-name`,
 * the pipeline re-check flags and the zap logging flags. They live here so that `run.ts` stays wiring.
 *
 * Invariants:
 * - Every flag kaasops' manager binary accepts is accepted, with Go's syntax (`-flag`, `--flag=value`, booleans as
 *   `--flag`, `--flag=true|false|1|0|t|f`) and kaasops' default, so its Helm chart's args start this operator.
 * - A value kaasops would refuse is refused too (exit 2), with a message naming the flag.
 * - A flag whose kaasops behaviour is not implemented here is never ignored silently: `notImplemented` names it and
 *   what is missing, and the operator logs that as a warning at start.
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import type { LoggerOptions } from 'pino';
import { parseDuration } from './durations.ts';

export const kaasopsOptions = {
  'metrics-secure': { type: 'boolean', default: true },
  'enable-http2': { type: 'boolean', default: false },
  'watch-name': { type: 'string', default: '' },
  'enable-reconciliation-invalid-pipelines': { type: 'boolean', default: false },
  'reconciliation-retry-delay': { type: 'string', default: '30s' },
  // No defaults: unset means "our logging defaults" (info, epoch milliseconds, no stack traces); see docs/operator.md.
  'zap-devel': { type: 'boolean' },
  'zap-encoder': { type: 'string' },
  'zap-log-level': { type: 'string' },
  'zap-stacktrace-level': { type: 'string' },
  'zap-time-encoding': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const kaasopsBooleans = [
  'metrics-secure',
  'enable-http2',
  'enable-reconciliation-invalid-pipelines',
  'zap-devel',
];

export interface KaasopsValues {
  'metrics-secure': boolean;
  'enable-http2': boolean;
  'watch-name': string;
  'enable-reconciliation-invalid-pipelines': boolean;
  'reconciliation-retry-delay': string;
  'zap-devel'?: boolean | undefined;
  'zap-encoder'?: string | undefined;
  'zap-log-level'?: string | undefined;
  'zap-stacktrace-level'?: string | undefined;
  'zap-time-encoding'?: string | undefined;
}

/** The label every object this operator writes for an agent carries (kaasops' too). */
const agentNameLabelValue = 'vector';

type PinoLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** controller-runtime's level names (`panic` is the highest), or a logr verbosity > 0 (1 = debug, more = trace). */
function zapLevel(flag: string, value: string): string {
  const named: Record<string, PinoLevel> = { debug: 'debug', info: 'info', error: 'error', panic: 'fatal' };
  const n = named[value.toLowerCase()];
  if (n !== undefined) return n;
  if (/^[0-9]+$/.test(value) && Number(value) > 0) return Number(value) === 1 ? 'debug' : 'trace';
  return `--${flag} '${value}' must be debug, info, error, panic or an integer > 0`;
}

const pinoLevelNumber: Record<PinoLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** zap's time encoders, written into pino's `time` field. */
const timeEncoders: Record<string, () => string> = {
  epoch: () => `,"time":${Date.now() / 1000}`,
  millis: () => `,"time":${Date.now()}`,
  nano: () => `,"time":${BigInt(Date.now()) * 1_000_000n}`,
  iso8601: () => `,"time":"${new Date().toISOString()}"`,
  rfc3339: () => `,"time":"${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}"`,
  rfc3339nano: () => `,"time":"${new Date().toISOString()}"`,
};

export interface LogSettings {
  level: PinoLevel;
  options: Pick<LoggerOptions, 'timestamp' | 'hooks'>;
}

/**
 * The pino settings for `--log-level` (ours, explicit wins) and the zap flags: `--zap-log-level`, else
 * `--zap-devel` (true: debug, false: info), else info. A string is a usage error naming the flag.
 */
export function logSettings(logLevel: string | undefined, v: KaasopsValues): LogSettings | string {
  let level: PinoLevel = 'info';
  if (logLevel !== undefined) level = logLevel as PinoLevel;
  else if (v['zap-log-level'] !== undefined) {
    const l = zapLevel('zap-log-level', v['zap-log-level']);
    if (!(l in pinoLevelNumber)) return l;
    level = l as PinoLevel;
  } else if (v['zap-devel'] === true) level = 'debug';
  const options: LogSettings['options'] = {};
  const enc = v['zap-encoder'];
  if (enc !== undefined && enc !== 'json' && enc !== 'console') return `--zap-encoder '${enc}' must be json or console`;
  const time = v['zap-time-encoding'];
  if (time !== undefined) {
    const fn = timeEncoders[time.toLowerCase()];
    if (fn === undefined) return `--zap-time-encoding '${time}' must be one of ${Object.keys(timeEncoders).join(', ')}`;
    options.timestamp = fn;
  }
  const st = v['zap-stacktrace-level'];
  if (st !== undefined) {
    const l = zapLevel('zap-stacktrace-level', st);
    if (!(l in pinoLevelNumber) || /^[0-9]+$/.test(st))
      return `--zap-stacktrace-level '${st}' must be info, error or panic`;
    const threshold = pinoLevelNumber[l as PinoLevel];
    options.hooks = {
      logMethod(args, method, levelNumber) {
        if (levelNumber < threshold) {
          method.apply(this, args);
          return;
        }
        const stacktrace = (new Error().stack ?? '').split('\n').slice(3).join('\n');
        const [first, ...rest] = args as unknown[];
        const obj = typeof first === 'object' && first !== null ? { ...first, stacktrace } : { stacktrace };
        const tail = typeof first === 'object' && first !== null ? rest : [first, ...rest];
        method.apply(this, [obj, ...tail] as Parameters<typeof method>);
      },
    };
  }
  return { level, options };
}

/** The retry delay in ms, or a usage error naming the flag. */
export function retryDelayMs(v: KaasopsValues): number | string {
  const ms = parseDuration(v['reconciliation-retry-delay']);
  if (ms === undefined)
    return `--reconciliation-retry-delay '${v['reconciliation-retry-delay']}' is not a duration like 30s or 2m`;
  return ms;
}

/** Flags accepted whose kaasops behaviour is missing here, or differs on purpose: one start-up warning each. */
export function notImplemented(v: KaasopsValues): { flag: string; value: string; missing: string }[] {
  const out: { flag: string; value: string; missing: string }[] = [];
  const watchName = v['watch-name'];
  // kaasops' secret rotation poll in this mode is not needed: Secrets are watched whatever the value (metadata only).
  if (watchName !== '') {
    if (watchName !== agentNameLabelValue)
      out.push({
        flag: 'watch-name',
        value: watchName,
        missing:
          `the objects this operator writes are labelled app.kubernetes.io/name=${agentNameLabelValue}; the value is ` +
          'not applied to them, so they stay visible (kaasops loses sight of them and fails every update)',
      });
  }
  if (v['zap-encoder'] === 'console')
    out.push({ flag: 'zap-encoder', value: 'console', missing: 'the console encoder: logs stay JSON lines' });
  return out;
}
