import { FallbackState } from '../../../clients/typescript/fallback-state';

describe('client fallback state', () => {
  const setup = () => {
    let now = 1000;
    const lines: string[] = [];
    const state = new FallbackState('http://svc', 500, { warn: (m) => lines.push(`warn ${m}`), info: (m) => lines.push(`info ${m}`) }, () => now);
    return { state, lines, advance: (ms: number) => (now += ms) };
  };

  it('goes local on an outage, logging the switch once however many calls see it', () => {
    const { state, lines } = setup();
    expect(state.route()).toBe('service');
    state.outage('ECONNREFUSED');
    state.outage('ECONNREFUSED');
    expect(state.mode).toBe('local');
    expect(state.route()).toBe('local');
    expect(lines).toEqual(['warn embedding service unavailable; using the local model']);
  });

  it('lets one caller at a time probe the service after the recheck interval; a failed probe waits another interval', () => {
    const { state, lines, advance } = setup();
    state.outage('timed out');
    advance(499);
    expect(state.route()).toBe('local');
    advance(1);
    expect(state.route()).toBe('probe');
    expect(state.route()).toBe('local'); // the probe is in flight
    state.probeFailed();
    expect(state.route()).toBe('local');
    advance(500);
    expect(state.route()).toBe('probe');
    state.probeSucceeded();
    expect(state.mode).toBe('service');
    expect(state.route()).toBe('service');
    expect(lines).toEqual(['warn embedding service unavailable; using the local model', 'info embedding service is back; local model released']);
  });
});
