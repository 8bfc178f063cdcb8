/**
 * What the backend signals to an open Promotions tab: that the entity's stored state or one of
 * its promotions changed. It carries nothing else; the tab reads the change through the API,
 * whose permission checks apply.
 *
 * @public
 */
export interface PromotionsSignal {
  [key: string]: string;
  /** `state` after a refresh stored a new state, `promotion` when a promotion changed. */
  change: 'state' | 'promotion';
}

/**
 * The signal channel of one entity's Promotions tab: `promotions:` and the entity reference in
 * lower case, as references compare without regard to case.
 *
 * @public
 */
export function promotionsSignalChannel(entityRef: string): string {
  return `promotions:${entityRef.toLocaleLowerCase('en-US')}`;
}
