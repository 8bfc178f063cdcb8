import { ConfigReader } from '@backstage/config';
import { exampleUsersAuthenticator } from './exampleSignIn';

const request = (user?: string) =>
  ({
    header: (name: string) => (name === 'x-example-user' ? user : undefined),
  } as any);

describe('the example users sign-in', () => {
  const env = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = env;
  });
  const context = () =>
    exampleUsersAuthenticator.initialize({
      config: new ConfigReader({ users: ['ana', 'rita'] }),
    });

  it('signs in as a listed example user while developing', async () => {
    process.env.NODE_ENV = 'development';
    await expect(
      exampleUsersAuthenticator.authenticate(
        { req: request('rita') },
        context(),
      ),
    ).resolves.toEqual({ result: { user: 'rita' } });
  });

  it('refuses anyone not listed, and nobody chosen', async () => {
    process.env.NODE_ENV = 'development';
    await expect(
      exampleUsersAuthenticator.authenticate(
        { req: request('pat') },
        context(),
      ),
    ).rejects.toThrow('"pat" is not one of the example users (ana, rita)');
    await expect(
      exampleUsersAuthenticator.authenticate({ req: request() }, context()),
    ).rejects.toThrow(/is not one of the example users/);
  });

  it('works only while developing', async () => {
    process.env.NODE_ENV = 'production';
    await expect(
      exampleUsersAuthenticator.authenticate(
        { req: request('rita') },
        context(),
      ),
    ).rejects.toThrow(/only while developing/);
  });
});
