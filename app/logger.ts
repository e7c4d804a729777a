import winston from 'winston';
import type { Config } from './config';

/** JSON lines on stdout (CloudWatch via awslogs): one object per event, fields at the top level. */
export function createLogger(config: Pick<Config, 'logLevel'> & { tracing: { serviceName: string } }): winston.Logger {
  return winston.createLogger({
    level: config.logLevel,
    defaultMeta: { service: config.tracing.serviceName },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

/** The configuration as logged at startup: nothing in it is secret today, but the hook is here. */
export function describeConfig(config: Config): Record<string, unknown> {
  return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
}
