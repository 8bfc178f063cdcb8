/**
 * A GitHub REST API simulator for tests and the benchmark, whose every answer is checked against
 * GitHub's published OpenAPI description.
 *
 * @packageDocumentation
 */
export * from './simulator';
export * from './openapi';
