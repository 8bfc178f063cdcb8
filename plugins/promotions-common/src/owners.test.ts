import { ownerEntityRef } from './owners';

describe('ownerEntityRef', () => {
  it('names one owner however spec.owner spells it', () => {
    for (const owner of [
      'team-a',
      'group:team-a',
      'group:default/team-a',
      ' Group:Default/Team-A ',
    ]) {
      expect(ownerEntityRef(owner)).toBe('group:default/team-a');
    }
  });

  it('takes the namespace of the owning entity when the owner names none', () => {
    expect(ownerEntityRef('team-a', { defaultNamespace: 'shop' })).toBe(
      'group:shop/team-a',
    );
    expect(
      ownerEntityRef('group:default/team-a', { defaultNamespace: 'shop' }),
    ).toBe('group:default/team-a');
    expect(ownerEntityRef('user:ana', { defaultNamespace: 'shop' })).toBe(
      'user:shop/ana',
    );
  });

  it('refuses what is no entity ref', () => {
    for (const owner of ['', '   ', 'group:', ':team-a', 'team-a/']) {
      expect(ownerEntityRef(owner)).toBeUndefined();
    }
  });
});
