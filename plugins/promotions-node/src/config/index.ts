export * from './readPromotionsConfig';
export * from './pathRules';
export * from './environmentPolicy';
