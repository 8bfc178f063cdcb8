export * from './readPromotionsConfig';
export * from './pathRules';
