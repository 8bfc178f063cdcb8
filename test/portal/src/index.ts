/**
 * Tests of the Promotions pages against the real promotions backend: no exports.
 *
 * @packageDocumentation
 */
export {};
