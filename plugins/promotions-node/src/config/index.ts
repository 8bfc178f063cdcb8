export * from './readPromotionsConfig';
export * from './pathRules';
export * from './environmentPolicy';
export * from './gitUrlCredentials';
