/** The pure checks and helpers behind the program's safety rules, without mocks. */
import { secretResourceArn, secretsStatements } from '../../infra/clients';
import { vpcIpv4Cidrs } from '../../infra/endpoints';
import { exactNameSelector } from '../../infra/metrics';
import { containerInsightsProblem, namespaceMismatch } from '../../infra/platform';

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

describe('containerInsightsProblem', () => {
  it('accepts enabled and enhanced, and names the command otherwise', () => {
    expect(containerInsightsProblem('prod', [{ name: 'containerInsights', value: 'enabled' }])).toBeUndefined();
    expect(containerInsightsProblem('prod', [{ name: 'containerInsights', value: 'enhanced' }])).toBeUndefined();
    expect(containerInsightsProblem('prod', [{ name: 'containerInsights', value: 'disabled' }])).toMatch(
      /Container Insights disabled.*aws ecs update-cluster-settings --cluster prod --settings name=containerInsights,value=enabled/,
    );
    expect(containerInsightsProblem('prod', [])).toMatch(/Container Insights off/);
  });
});

describe('namespaceMismatch', () => {
  it('is silent when the name is the namespace, and explains otherwise', () => {
    expect(namespaceMismatch('superschedules.local', 'ns-a', 'ns-a')).toBeUndefined();
    expect(namespaceMismatch('superschedules.local', 'ns-a', 'ns-b')).toMatch(/is the private DNS namespace ns-b, not embedding:namespaceId ns-a/);
  });
});

describe('client secrets', () => {
  it('grants the Secrets Manager secret without its JSON-key suffix, the SSM parameter as is', () => {
    expect(secretResourceArn('arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password:AWSCURRENT:')).toBe(
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf',
    );
    expect(secretResourceArn('arn:aws:ssm:us-east-1:123456789012:parameter/a/b')).toBe('arn:aws:ssm:us-east-1:123456789012:parameter/a/b');
    expect(secretsStatements({})).toEqual([]);
    expect(secretsStatements({ A: 'arn:aws:ssm:us-east-1:123456789012:parameter/a' })).toEqual([
      { Sid: 'SsmParameters', Effect: 'Allow', Action: 'ssm:GetParameters', Resource: ['arn:aws:ssm:us-east-1:123456789012:parameter/a'] },
    ]);
  });
});

describe('exactNameSelector', () => {
  it('anchors the name and doubles the $ for the collector', () => {
    expect(exactNameSelector('embedding_queued_texts')).toBe('^embedding_queued_texts$$');
    expect(() => exactNameSelector('bad name')).toThrow(/not a Prometheus metric name/);
  });
});
