import { hostnameSafe, renderParams, renderString } from '../../../shared/catalog/patterns';
import { InputError } from '../../../shared/errors';

describe('per-VM pattern rendering', () => {
  const ctx = { vm: 'Web_01.prod', index: 3, pool: 'lab', template: 'debian12' };

  it.each([
    ['web_01', 'web-01'],
    ['Web_01.prod', 'web-01-prod'],
    ['__x__', 'x'],
    ['a  b', 'a-b'],
    ['db-7', 'db-7'],
  ])('makes VM name %j hostname-safe as %j', (name, safe) => {
    expect(hostnameSafe(name)).toBe(safe);
  });

  it.each([
    ['${pool}-${index}', 'lab-3'],
    ['${vm}', 'web-01-prod'],
    ['${template}-${index}.example.org', 'debian12-3.example.org'],
    ['static', 'static'],
  ])('renders hostname %j as %j', (pattern, out) => {
    expect(renderParams({ hostname: pattern }, ctx).hostname).toBe(out);
  });

  it('keeps VM names as they are outside the hostname', () => {
    expect(renderParams({ delete: ['/srv/${vm}/cache'] }, ctx).delete).toEqual(['/srv/Web_01.prod/cache']);
  });

  it('never renders secret params: a script keeps its own ${...}', () => {
    const script = '#!/bin/sh\necho ${HOME} ${vm}\n';
    expect(renderParams({ scripts: [script] }, ctx).scripts).toEqual([script]);
  });

  it('names the field of an unknown variable', () => {
    expect(() => renderString('${host}', ctx, 'params.hostname')).toThrow(/params.hostname: unknown pattern variable \$\{host\}/);
  });

  it('refuses ${pool} for a VM that is in no pool, naming the VM', () => {
    const err = (() => { try { renderParams({ hostname: '${pool}-${index}' }, { vm: 'solo', index: 1 }); } catch (e) { return e; } })() as InputError;
    expect(err).toBeInstanceOf(InputError);
    expect(err.field).toBe('params.hostname');
    expect(err.details).toMatchObject({ vm: 'solo' });
  });

  it('validates the rendered value: a hostname too long after rendering is refused', () => {
    expect(() => renderParams({ hostname: '${vm}'.repeat(1) + 'x'.repeat(60) }, ctx)).toThrow(/params.hostname.*rendered for VM "Web_01.prod"/);
  });

  it('names no VM for a value without a pattern: it is wrong for every VM alike', () => {
    expect(() => renderParams({ hostname: 'under_score!' }, ctx)).toThrow(/^params.hostname: is not a valid hostname (?!.*rendered for)/);
    expect(() => renderParams({ timezone: 'Europe/Atlantis', hostname: '${vm}' }, ctx)).toThrow(/^params.timezone: (?!.*rendered for)/);
  });
});
