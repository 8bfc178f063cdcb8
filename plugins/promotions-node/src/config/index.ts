export * from './readPromotionsConfig';
