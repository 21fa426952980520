import { asStepState, endSteps, stepEndOf } from '../../../shared/endSteps';

describe('endSteps', () => {
  const steps = [
    { operation: 'machine-id', state: 'done', at: 't1' },
    { operation: 'customize', state: 'running', at: 't2' },
  ];

  it.each([
    ['SUCCEEDED', 'done'],
    ['succeeded', 'done'],
    ['FAILED', 'failed'],
    ['failed', 'failed'],
    ['CANCELLED', 'skipped'],
    ['cancelled', 'skipped'],
  ])('a job ended %s ends its running step %s, the others as they were', (state, end) => {
    expect(endSteps(steps, stepEndOf(state))).toEqual([steps[0], { ...steps[1], state: end }]);
    expect(steps[1].state).toBe('running'); // a new array: the input is not changed
  });

  it('reads wire states, an unknown one as running', () => {
    expect(['running', 'done', 'failed', 'skipped', 'paused'].map(asStepState)).toEqual(['running', 'done', 'failed', 'skipped', 'running']);
  });
});
