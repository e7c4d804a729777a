/** The pure task-definition edits behind stage 2, on the production account's definitions. */
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import {
  READ_ONLY_FIELDS,
  REGISTER_FIELDS,
  containersWithout,
  definitionProblems,
  differingPaths,
  fieldsLost,
  registrationOf,
  withVariable,
} from '../../../infra/callers/definition';
import { CHAT, DJANGO } from '../support/live-account';

const VARIABLE = 'EMBEDDING_SERVICE_URL';
const URL = 'http://embedding.superschedules.local:8003';

describe('registrationOf', () => {
  const input = registrationOf(DJANGO.taskDefinition, DJANGO.tags) as unknown as Record<string, unknown>;

  it('copies every field RegisterTaskDefinition accepts and none that ECS sets', () => {
    for (const field of READ_ONLY_FIELDS) expect([field, field in input]).toEqual([field, false]);
    const present = REGISTER_FIELDS.filter((f) => (DJANGO.taskDefinition as Record<string, unknown>)[f] !== undefined);
    expect(Object.keys(input).sort()).toEqual([...present, 'tags'].sort());
    expect(input.containerDefinitions).toEqual(DJANGO.taskDefinition.containerDefinitions);
    expect(input.volumes).toEqual(DJANGO.taskDefinition.volumes);
  });

  it('keeps the tags except the aws: ones only AWS may set, and copies deeply', () => {
    expect(input.tags).toEqual([{ key: 'team', value: 'backend' }]);
    (input.containerDefinitions as { image: string }[])[0].image = 'changed';
    expect(DJANGO.taskDefinition.containerDefinitions?.[0].image).not.toBe('changed');
    expect('tags' in registrationOf(DJANGO.taskDefinition, [])).toBe(false);
  });
});

describe('withVariable', () => {
  const chat = registrationOf(CHAT.taskDefinition, CHAT.tags);
  const env = (input: typeof chat, container: string) => input.containerDefinitions?.find((c) => c.name === container)?.environment ?? [];

  it('appends the variable to the named containers only, and changes nothing else', () => {
    const next = withVariable(chat, { variable: VARIABLE, value: URL, set: ['chat'], unset: [], ours: [URL] });
    expect(env(next, 'chat')).toEqual([...env(chat, 'chat'), { name: VARIABLE, value: URL }]);
    expect(env(next, 'datadog-agent')).toEqual(env(chat, 'datadog-agent'));
    expect(differingPaths(chat, next)).toEqual(['containerDefinitions[0].environment[1]']);
  });

  it('replaces an existing value in place (and drops duplicates of it), never adding a second entry', () => {
    const set = withVariable(chat, { variable: VARIABLE, value: 'http://old:8003', set: ['chat'], unset: [], ours: [] });
    const dup = withVariable(set, { variable: VARIABLE, value: 'http://old:8003', set: [], unset: [], ours: [] });
    dup.containerDefinitions?.[0].environment?.push({ name: VARIABLE, value: 'http://older:8003' });
    const next = withVariable(dup, { variable: VARIABLE, value: URL, set: ['chat'], unset: [], ours: [URL] });
    expect(env(next, 'chat').filter((e) => e.name === VARIABLE)).toEqual([{ name: VARIABLE, value: URL }]);
    expect(env(next, 'chat').findIndex((e) => e.name === VARIABLE)).toBe(env(chat, 'chat').length);
  });

  it('unsets only a value the stack put there; a container without environment stays without one', () => {
    const wired = withVariable(chat, { variable: VARIABLE, value: URL, set: ['chat'], unset: [], ours: [URL] });
    expect(differingPaths(chat, withVariable(wired, { variable: VARIABLE, value: URL, set: [], unset: ['chat'], ours: [URL] }))).toEqual([]);
    const theirs = withVariable(chat, { variable: VARIABLE, value: 'http://theirs:8003', set: ['chat'], unset: [], ours: [] });
    expect(differingPaths(theirs, withVariable(theirs, { variable: VARIABLE, value: URL, set: [], unset: ['chat'], ours: [URL] }))).toEqual([]);
    const bare = { family: 'f', containerDefinitions: [{ name: 'a', image: 'i' }] };
    expect(withVariable(bare, { variable: VARIABLE, value: URL, set: [], unset: ['a'], ours: [URL] })).toEqual(bare);
  });
});

describe('checks', () => {
  it('names a missing container and what the definition has, and a variable that comes from a secret', () => {
    expect(definitionProblems(DJANGO.taskDefinition, ['django', 'web'], VARIABLE)).toEqual([
      'container web is not in superschedules-django:41 (it has django, log-router)',
    ]);
    const td: TaskDefinition = { ...CHAT.taskDefinition, containerDefinitions: [{ name: 'chat', secrets: [{ name: VARIABLE, valueFrom: 'arn:aws:ssm:us-east-1:1:parameter/u' }] }] };
    expect(definitionProblems(td, ['chat'], VARIABLE)).toEqual([
      'container chat of superschedules-chat:17 takes EMBEDDING_SERVICE_URL from a secret: remove that secret before the stack sets the variable',
    ]);
  });

  it('containersWithout: the named containers lacking the value (drift)', () => {
    const containers = [{ name: 'a', environment: [{ name: VARIABLE, value: URL }] }, { name: 'b', environment: [{ name: VARIABLE, value: 'x' }] }, { name: 'c' }];
    expect(containersWithout(containers, ['a', 'b', 'c'], VARIABLE, URL)).toEqual(['b', 'c']);
  });

  it('fieldsLost: members of the raw answer the parsed one lacks, at any depth; nulls and dates are not losses', () => {
    const raw = { taskDefinition: { family: 'f', registeredAt: 1.5, pidMode: null, futureField: 1, containerDefinitions: [{ name: 'a', newThing: {} }] } };
    const parsed = { taskDefinition: { family: 'f', registeredAt: new Date(1500), containerDefinitions: [{ name: 'a' }] } };
    expect(fieldsLost(raw, parsed)).toEqual(['taskDefinition.futureField', 'taskDefinition.containerDefinitions[0].newThing']);
    expect(fieldsLost(parsed, parsed)).toEqual([]);
  });

  it('differingPaths: array and object paths; absent and undefined are the same', () => {
    expect(differingPaths({ a: [1, { b: 2 }], c: undefined }, { a: [1, { b: 3 }] })).toEqual(['a[1].b']);
    expect(differingPaths({ a: [] }, { a: {} })).toEqual(['a']);
  });
});
