export * from './types';
export * from './entityRef';
