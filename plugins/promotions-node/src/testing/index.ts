/**
 * Test helpers: Git repositories built from a list of commits, in-memory snapshots, and the
 * `shop` fixture used across the suite's tests.
 *
 * @packageDocumentation
 */
export * from './gitFixture';
export * from './memorySnapshot';
export * from './shopFixture';
