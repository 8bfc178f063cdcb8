import { Test } from 'supertest';

/** Requests left hanging in a backend that died: `abortHanging` lets them go after each test. */
const hanging: Test[] = [];

/** Lets go of the requests `sendAndDie` left hanging. */
export function abortHanging() {
  for (const test of hanging.splice(0)) test.abort();
}

/** Sends a request whose answer never comes: the backend dies while serving it. */
export function sendAndDie(test: Test) {
  test.end(() => {});
  hanging.push(test);
}

/**
 * Makes the first call of a method that `when` picks never return, as if the backend died
 * there (or, `after`, just after it did its work): nothing after it runs.
 */
export function dieIn(
  target: object,
  method: string,
  when: (...args: any[]) => boolean = () => true,
  after = false,
) {
  let died!: () => void;
  const dead = new Promise<void>(resolve => {
    died = resolve;
  });
  const original = (target as any)[method];
  let reached = false;
  const spy = jest
    .spyOn(target as any, method)
    .mockImplementation(function call(this: unknown, ...args: unknown[]) {
      if (!reached && when(...args)) {
        reached = true;
        const dying = after
          ? Promise.resolve(original.apply(this, args))
          : Promise.resolve();
        return dying.then(() => {
          died();
          return new Promise(() => {});
        });
      }
      return original.apply(this, args);
    });
  return {
    /** Resolves once the backend died there; the method works again for the next backend. */
    reached: dead.then(() => spy.mockRestore()),
  };
}
