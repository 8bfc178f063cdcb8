import { useState } from 'react';
import { Content, Page, ProxiedSignInPage } from '@backstage/core-components';
import { IdentityApi } from '@backstage/core-plugin-api';
import { SignInPageProps } from '@backstage/plugin-app-react';
import Button from '@material-ui/core/Button';
import Card from '@material-ui/core/Card';
import CardActions from '@material-ui/core/CardActions';
import CardContent from '@material-ui/core/CardContent';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';

/** The example organisation's people (examples/org.yaml), as the sign-in page offers them. */
export const EXAMPLE_USERS = [
  {
    name: 'guest',
    displayName: 'Guest',
    role: 'Developer in the shop team: promotes the team’s services outside production',
  },
  {
    name: 'ana',
    displayName: 'Ana Lima',
    role: 'Developer in the shop team: promotes, and approves her teammates’ promotions outside production',
  },
  {
    name: 'rita',
    displayName: 'Rita Okoye',
    role: 'Release manager: approves and merges promotions to production, overrides windows and freezes',
  },
  {
    name: 'pat',
    displayName: 'Pat Ng',
    role: 'Platform team: runs the portal and may do anything',
  },
];

const STORAGE_KEY = 'gitops-promotions:example-user';

/** The identity, forgetting the chosen user on sign-out so that the next one can be chosen. */
function forgettingOnSignOut(identity: IdentityApi): IdentityApi {
  return {
    getProfileInfo: () => identity.getProfileInfo(),
    getBackstageIdentity: () => identity.getBackstageIdentity(),
    getCredentials: () => identity.getCredentials(),
    signOut: async () => {
      window.localStorage.removeItem(STORAGE_KEY);
      await identity.signOut();
    },
  };
}

function UserPicker(props: { onPick: (user: string) => void; error?: Error }) {
  return (
    <Page themeId="home">
      <Content>
        <Typography variant="h4" component="h1" gutterBottom>
          Sign in to the example portal
        </Typography>
        <Typography paragraph>
          Choose who you are. Each person has the permissions the example policy
          gives their team, so a requester and an approver can be tried side by
          side. A real portal signs in through the organisation’s identity
          provider.
        </Typography>
        {props.error && (
          <Alert severity="error" style={{ marginBottom: 16 }}>
            {props.error.message}
          </Alert>
        )}
        <Grid container spacing={3}>
          {EXAMPLE_USERS.map(user => (
            <Grid item xs={12} sm={6} md={3} key={user.name}>
              <Card
                component="section"
                aria-label={user.displayName}
                style={{
                  height: '100%',
                  display: 'flex',
                  flexDirection: 'column',
                }}
              >
                <CardContent style={{ flexGrow: 1 }}>
                  <Typography variant="h6" component="h2">
                    {user.displayName}
                  </Typography>
                  <Typography variant="body2" color="textSecondary">
                    {user.role}
                  </Typography>
                </CardContent>
                <CardActions>
                  <Button
                    color="primary"
                    variant="contained"
                    onClick={() => props.onPick(user.name)}
                  >
                    Sign in as {user.displayName}
                  </Button>
                </CardActions>
              </Card>
            </Grid>
          ))}
        </Grid>
      </Content>
    </Page>
  );
}

/**
 * The example portal's sign-in page: pick one of the example users, signed in through the
 * backend's `example` provider; the choice is kept until signing out.
 */
export function ExampleSignInPage(props: SignInPageProps) {
  const [user, setUser] = useState<string | null>(() =>
    window.localStorage.getItem(STORAGE_KEY),
  );
  // Each pick is a new attempt, also of the same user after a failure.
  const [attempt, setAttempt] = useState(0);
  const pick = (name: string) => {
    window.localStorage.setItem(STORAGE_KEY, name);
    setUser(name);
    setAttempt(n => n + 1);
  };
  if (!user) return <UserPicker onPick={pick} />;
  return (
    <ProxiedSignInPage
      key={attempt}
      {...props}
      provider="example"
      headers={{ 'x-example-user': user }}
      onSignInSuccess={identity =>
        props.onSignInSuccess(forgettingOnSignOut(identity))
      }
      ErrorComponent={({ error }) => {
        window.localStorage.removeItem(STORAGE_KEY);
        return <UserPicker onPick={pick} error={error} />;
      }}
    />
  );
}
