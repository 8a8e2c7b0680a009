import { useEffect } from 'preact/hooks';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { answer, api, setCsrfToken } from '../api/client.js';
import type { Me, SignedIn } from '../api/types.js';

const text = (value: FormDataEntryValue | null) => (typeof value === 'string' ? value : '');

/** POST /api/session: the API sets the HttpOnly session cookie and answers the CSRF token. */
export function SignInPage() {
  const queryClient = useQueryClient();
  // The fields are read when the form is submitted, not from state: a password manager or a
  // fast typist can submit before the last keystroke's re-render.
  const signIn = useMutation({
    mutationFn: (body: { user: string; password: string }) =>
      answer<SignedIn>(api.POST('/api/session', { body })),
    onSuccess: (session) => {
      setCsrfToken(session.csrfToken);
      const me: Me = {
        kind: 'user',
        // As /api/me labels a person (principalLabel), so pages compare marks and authors alike.
        label: `user:${session.user}`,
        user: session.user,
        grants: session.grants,
        via: 'session',
        session: { id: session.sessionId, csrfToken: session.csrfToken, expiresAt: session.expiresAt },
      };
      queryClient.setQueryData(['me'], me);
    },
  });
  // Signed-in pages are titled by the layout after their heading; this one is outside it.
  useEffect(() => {
    document.title = 'Sign in · Flywheel';
  }, []);
  return (
    <main id="content" class="page sign-in">
      <h1>Sign in to Flywheel</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          signIn.mutate({
            user: text(form.get('username')),
            password: text(form.get('password')),
          });
        }}
      >
        <label for="user">User name</label>
        {/* The page's one task: a first-time reviewer types at once (found in a first-use trial). */}
        <input id="user" name="username" autocomplete="username" required autoFocus />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        {signIn.isError && (
          <p role="alert" class="error">
            {signIn.error.message}
          </p>
        )}
        <button type="submit" disabled={signIn.isPending}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p class="hint">
        No account yet? An admin creates one with{' '}
        <code>flywheel user create &lt;name&gt; --role reviewer</code>.
      </p>
    </main>
  );
}
