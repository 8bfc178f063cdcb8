/**
 * Types, annotation names and API contract shared by the GitOps Promotions plugins.
 *
 * @packageDocumentation
 */
export * from './annotations';
export * from './api';
export * from './figures';
export * from './format';
export * from './types';
export * from './paths';
export * from './layout';
export * from './permissions';
export * from './signals';
export * from './fleet';
export * from './groups';
export * from './owners';
