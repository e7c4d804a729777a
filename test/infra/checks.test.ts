/** The pure checks and helpers behind the program's safety rules, without mocks. */
import { HEALTH_CHECK_TIMING } from '../../infra/containers';
import { vpcIpv4Cidrs } from '../../infra/endpoints';
import { healthCheckProblems } from '../../infra/limits';
import { exactNameSelector } from '../../infra/metrics';
import { namespaceMismatch } from '../../infra/platform';

describe('vpcIpv4Cidrs', () => {
  it('takes the primary block and every associated secondary block, once each', () => {
    expect(
      vpcIpv4Cidrs({
        cidrBlock: '172.31.0.0/16',
        cidrBlockAssociations: [
          { cidrBlock: '172.31.0.0/16', state: 'associated' },
          { cidrBlock: '100.64.0.0/20', state: 'associated' },
          { cidrBlock: '10.9.0.0/16', state: 'disassociated' },
        ],
      }),
    ).toEqual(['172.31.0.0/16', '100.64.0.0/20']);
  });
});

describe('healthCheckProblems', () => {
  it("holds the container health check to ECS's limits (timeout 2-60 s, interval 5-300 s, retries 1-10, start period 0-300 s)", () => {
    expect(healthCheckProblems(HEALTH_CHECK_TIMING)).toEqual([]);
    expect(healthCheckProblems({ interval: 30, timeout: 61, retries: 3, startPeriod: 0 })).toEqual(["timeout 61 is outside ECS's 2-60"]);
    expect(healthCheckProblems({ interval: 4, retries: 11, startPeriod: 301 })).toEqual([
      "interval 4 is outside ECS's 5-300",
      "retries 11 is outside ECS's 1-10",
      "startPeriod 301 is outside ECS's 0-300",
    ]);
    expect(healthCheckProblems({ timeout: 1.5 })).toEqual(["timeout 1.5 is outside ECS's 2-60"]);
  });
});

describe('namespaceMismatch', () => {
  it('is silent when the name is the namespace, and explains otherwise', () => {
    expect(namespaceMismatch('superschedules.local', 'ns-a', 'ns-a')).toBeUndefined();
    expect(namespaceMismatch('superschedules.local', 'ns-a', 'ns-b')).toMatch(/is the private DNS namespace ns-b, not embedding:namespaceId ns-a/);
  });
});

describe('exactNameSelector', () => {
  it('anchors the name and doubles the $ for the collector', () => {
    expect(exactNameSelector('embedding_queued_texts')).toBe('^embedding_queued_texts$$');
    expect(() => exactNameSelector('bad name')).toThrow(/not a Prometheus metric name/);
  });
});
