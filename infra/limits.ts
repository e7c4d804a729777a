/**
 * ECS limits on the container health check this program writes, as the ECS API reference states
 * them (HealthCheck: interval 5-300 s, timeout 2-60 s, retries 1-10, startPeriod 0-300 s).
 * Pure: tested without mocks.
 */

export interface HealthCheckTiming {
  readonly interval?: number;
  readonly timeout?: number;
  readonly retries?: number;
  readonly startPeriod?: number;
}

export const ECS_HEALTH_CHECK_LIMITS: Readonly<Record<keyof HealthCheckTiming, readonly [number, number]>> = Object.freeze({
  interval: [5, 300],
  timeout: [2, 60],
  retries: [1, 10],
  startPeriod: [0, 300],
});

/** What ECS would refuse in a container health check's timing (empty when valid). */
export function healthCheckProblems(timing: HealthCheckTiming): string[] {
  return (Object.keys(ECS_HEALTH_CHECK_LIMITS) as (keyof HealthCheckTiming)[]).flatMap((key) => {
    const value = timing[key];
    const [min, max] = ECS_HEALTH_CHECK_LIMITS[key];
    if (value === undefined || (Number.isInteger(value) && value >= min && value <= max)) return [];
    return [`${key} ${value} is outside ECS's ${min}-${max}`];
  });
}
