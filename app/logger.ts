import winston from 'winston';
import type { Config } from './config';

/** `scheme://user:secret@host` → `scheme://REDACTED@host`, wherever a URL appears in `text`. */
export const redactUrlCredentials = (text: string): string => text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, '$1REDACTED@');

function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item)]));
  }
  return value;
}

/** Credentials in URLs (HF_ENDPOINT=https://user:token@mirror, in config and download errors) never reach a log line. */
const redactCredentials = winston.format((info) => {
  for (const key of Object.keys(info)) (info as Record<string, unknown>)[key] = redactDeep(info[key]);
  return info;
});

/** JSON lines on stdout (CloudWatch via awslogs): one object per event, fields at the top level. */
export function createLogger(config: Pick<Config, 'logLevel'> & { tracing: { serviceName: string } }): winston.Logger {
  return winston.createLogger({
    level: config.logLevel,
    defaultMeta: { service: config.tracing.serviceName },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), redactCredentials(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

/** The configuration as logged at startup (URL credentials are redacted by the logger, like every line's). */
export function describeConfig(config: Config): Record<string, unknown> {
  return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
}
