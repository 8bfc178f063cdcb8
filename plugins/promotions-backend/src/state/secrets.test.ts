import { configDrift } from './drift';
import { protectSecrets, secretProtection, SECRET_MARK } from './secrets';

const objects = (password: string, cache: string) => [
  {
    id: 'Secret/db',
    body: {
      kind: 'Secret',
      metadata: { name: 'db' },
      data: { password: Buffer.from(password).toString('base64') },
      stringData: { url: `postgres://app:${password}@db` },
    },
  },
  {
    id: 'Deployment/app',
    body: {
      kind: 'Deployment',
      metadata: { name: 'app' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                env: [
                  { name: 'DB_PASSWORD', value: password },
                  { name: 'CACHE_SIZE', value: cache },
                ],
              },
            ],
          },
        },
      },
    },
  },
  {
    id: 'HelmValues/values',
    body: { auth: { apiKey: password }, image: { pullPolicy: 'Always' } },
  },
];

describe('protectSecrets', () => {
  const protection = secretProtection(Buffer.from('server key'));

  it('never lets a secret value, or a digest anyone could reproduce, out of the backend', () => {
    const protectedObjects = protectSecrets(
      objects('hunter2', '512kb'),
      protection,
    );
    const text = JSON.stringify(protectedObjects);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain(Buffer.from('hunter2').toString('base64'));
    // Not a plain hash of the value either: the same value under another key looks different.
    const other = JSON.stringify(
      protectSecrets(
        objects('hunter2', '512kb'),
        secretProtection(Buffer.from('k2')),
      ),
    );
    expect(other).not.toEqual(text);
    // What is not secret stays readable.
    expect(text).toContain('512kb');
    expect(text).toContain('Always');
    expect(text.split(SECRET_MARK)).toHaveLength(5);
  });

  it('hides every value under a secret-looking key, in lists and nested maps at any depth', () => {
    const nested = (key: string) => [
      {
        id: 'HelmValues/values',
        body: {
          apiKeys: [key, `${key}-backup`],
          secrets: { stripe: key, nested: { deeper: [{ value: key }] } },
          image: { tag: '1.0.0' },
        },
      },
      {
        id: 'ConfigMap/app',
        body: {
          kind: 'ConfigMap',
          data: { credentials: { primary: key, list: [key, 7, true] } },
        },
      },
      {
        id: 'Secret/app',
        body: { kind: 'Secret', data: { nested: { list: [key] } } },
      },
    ];
    const text = JSON.stringify(
      protectSecrets(nested('sk_live_abc123'), protection),
    );
    expect(text).not.toContain('sk_live_abc123');
    expect(text).toContain('1.0.0');
    expect(text).toContain('"stripe"');

    const drift = configDrift({
      environment: 'prod',
      comparable: protectSecrets(nested('sk_live_abc123'), protection),
      upstream: 'staging',
      upstreamComparable: protectSecrets(nested('sk_test_xyz'), protection),
      expectedKeys: [],
    })!;
    expect(drift.differences.every(d => d.secret)).toBe(true);
    expect(drift.differences.map(d => d.key)).toEqual(
      expect.arrayContaining([
        'HelmValues/values apiKeys',
        'HelmValues/values secrets.stripe',
        'ConfigMap/app data.credentials.primary',
      ]),
    );
    expect(JSON.stringify(drift)).not.toMatch(/sk_live|sk_test|hmac:/);
  });

  it('hides values that look secret whatever their key: URLs with a password, secret lines', () => {
    const configured = (password: string) => [
      {
        id: 'ConfigMap/orders',
        body: {
          kind: 'ConfigMap',
          data: {
            'application.properties': `server.port=8080\ndb.password=${password}\n`,
            'client.conf': `client_secret = ${password}`,
            'settings.yaml': `region: eu\napiToken: ${password}\n`,
            'plain.properties': 'server.port=8080\ncache=512kb\n',
            'colon.properties': `db.password:${password}\n`,
            'minified.json': `{"db":{"password":"${password}"}}`,
            jdbc: `jdbc:postgresql://db.internal/orders?user=orders&password=${password}`,
            args: `--port=8080 --client-secret=${password}`,
            'escaped.json': JSON.stringify({
              inner: `{"password":"${password}"}`,
            }),
            'base64.properties': `secret:/${password}+AbC=\n`,
            homepage: 'https://shop.example.com/orders?ref=a:b@c',
          },
        },
      },
      {
        id: 'Deployment/orders',
        body: {
          kind: 'Deployment',
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'orders',
                    env: [
                      {
                        name: 'DATABASE_URL',
                        value: `postgres://orders:${password}@db.internal:5432/orders`,
                      },
                      { name: 'MAIL_HOST', value: 'smtp://mail@relay' },
                    ],
                  },
                ],
              },
            },
          },
        },
      },
    ];
    const text = JSON.stringify(
      protectSecrets(configured('hunter2'), protection),
    );
    expect(text).not.toContain('hunter2');
    expect(text).toContain('server.port=8080\\ncache=512kb');
    expect(text).toContain('https://shop.example.com/orders?ref=a:b@c');
    expect(text).toContain('smtp://mail@relay');

    const drift = configDrift({
      environment: 'prod',
      comparable: protectSecrets(configured('hunter2'), protection),
      upstream: 'staging',
      upstreamComparable: protectSecrets(
        configured('correct-horse'),
        protection,
      ),
      expectedKeys: [],
    })!;
    expect(drift.differences).toEqual([
      {
        key: 'ConfigMap/orders data.application.properties',
        value: null,
        upstreamValue: null,
        secret: true,
      },
      {
        key: 'ConfigMap/orders data.args',
        value: null,
        upstreamValue: null,
        secret: true,
      },
      {
        key: 'ConfigMap/orders data.base64.properties',
        value: null,
        upstreamValue: null,
        secret: true,
      },
      {
        key: 'ConfigMap/orders data.client.conf',
        value: null,
        upstreamValue: null,
        secret: true,
      },
      {
        key: 'ConfigMap/orders data.colon.properties',
        value: null,
        upstreamValue: null,
        secret: true,
      },
      {
        key: 'ConfigMap/orders data.escaped.json',
        value: null,
        upstreamValue: null,
        secret: true,
      },
      {
        key: 'ConfigMap/orders data.jdbc',
        value: null,
        upstreamValue: null,
        secret: true,
      },
      {
        key: 'ConfigMap/orders data.minified.json',
        value: null,
        upstreamValue: null,
        secret: true,
      },
      {
        key: 'ConfigMap/orders data.settings.yaml',
        value: null,
        upstreamValue: null,
        secret: true,
      },
      {
        key: 'Deployment/orders containers[orders].env.DATABASE_URL',
        value: null,
        upstreamValue: null,
        secret: true,
      },
    ]);
    expect(JSON.stringify(drift)).not.toMatch(/hunter2|correct-horse|hmac:/);
  });

  it("hides a flag's value after a space, and values under keys longer than a pattern is tested on", () => {
    const long = 'x'.repeat(300);
    const data = (password: string) => ({
      args: `--port 8080 --password ${password} --verbose`,
      'suffix.properties': `${long}_password=${password}\n`,
      'prefix.properties': `password_${long}=${password}\n`,
      [`db_password_${long}`]: password,
      [`${long}_api_token`]: password,
      prose: 'reset the password here',
      flags: '--port 8080 --verbose -- password',
    });
    const [hidden] = protectSecrets(
      [
        {
          id: 'ConfigMap/orders',
          body: { kind: 'ConfigMap', data: data('hunter2') },
        },
      ],
      protection,
    );
    const text = JSON.stringify(hidden);
    expect(text).not.toContain('hunter2');
    const kept = (hidden.body as any).data;
    expect(kept.prose).toBe('reset the password here');
    expect(kept.flags).toBe('--port 8080 --verbose -- password');
  });

  it('says a secret differs, and only that, in config drift', () => {
    const drift = configDrift({
      environment: 'prod',
      comparable: protectSecrets(objects('hunter2', '512kb'), protection),
      upstream: 'staging',
      upstreamComparable: protectSecrets(
        objects('correct-horse', '1024kb'),
        protection,
      ),
      expectedKeys: [],
    })!;
    const secret = drift.differences.filter(d => d.secret);
    expect(secret.map(d => d.key)).toEqual([
      'Deployment/app containers[app].env.DB_PASSWORD',
      'HelmValues/values auth.apiKey',
      'Secret/db data.password',
      'Secret/db stringData.url',
    ]);
    for (const d of secret) {
      expect(d).toMatchObject({ value: null, upstreamValue: null });
    }
    expect(drift.summary).toContain('DB_PASSWORD differs');
    expect(drift.summary).toContain('CACHE_SIZE: 512kb vs 1024kb');
    expect(JSON.stringify(drift)).not.toMatch(/hunter2|correct-horse|hmac:/);
  });

  it('finds no drift where secrets are equal', () => {
    expect(
      configDrift({
        environment: 'prod',
        comparable: protectSecrets(objects('same', '1'), protection),
        upstream: 'staging',
        upstreamComparable: protectSecrets(objects('same', '1'), protection),
        expectedKeys: [],
      }),
    ).toBeUndefined();
  });
});
