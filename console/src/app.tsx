import { useEffect } from 'preact/hooks';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { answer, api, ApiError, onSignedOut, setCsrfToken } from './api/client.js';
import type { Me } from './api/types.js';
import { Layout } from './components/layout.js';
import { ArtifactsPage } from './pages/artifacts.js';
import { AgentDashboardPage } from './pages/agent-dashboard.js';
import { CoachingListPage } from './pages/coaching-list.js';
import { CoachingPage } from './pages/coaching.js';
import { ConfigHistoryPage } from './pages/config-history.js';
import { CyclePage } from './pages/cycle.js';
import { DatasetVersionPage } from './pages/dataset-version.js';
import { DatasetsPage } from './pages/datasets.js';
import { HomePage } from './pages/home.js';
import { ItemPage } from './pages/item.js';
import { OnlineEvaluationPage } from './pages/online-evaluation.js';
import { PromptPage } from './pages/prompt.js';
import { PromptsPage } from './pages/prompts.js';
import { QueuePage } from './pages/queue.js';
import { QueuesPage } from './pages/queues.js';
import { RolloutPage } from './pages/rollout.js';
import { TracePage } from './pages/trace.js';
import { TracesPage } from './pages/traces.js';
import { SignInPage } from './pages/sign-in.js';
import { match, navigate, paths, useLocation } from './router.js';
import { SessionContext } from './session.js';

/** Who is signed in: GET /api/me, null when nobody is (401). */
function useSession() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async (): Promise<Me | null> => {
      try {
        const me = await answer<Me>(api.GET('/api/me'));
        setCsrfToken(me.session?.csrfToken ?? null);
        return me;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: Infinity,
  });
}

export function App() {
  const location = useLocation();
  const session = useSession();
  const queryClient = useQueryClient();

  // A 401 on any call means the session ended (expired, signed out elsewhere): sign in again.
  useEffect(
    () =>
      onSignedOut(() => {
        setCsrfToken(null);
        queryClient.setQueryData(['me'], null);
      }),
    [queryClient],
  );

  if (session.isPending) return <p class="loading">Loading…</p>;
  if (session.isError)
    return (
      <main class="page">
        <h1>The console cannot reach the API</h1>
        <p role="alert">{session.error.message}</p>
      </main>
    );
  const me = session.data;
  const path = location.split('?')[0] ?? '';
  if (!me) {
    if (path !== paths.signIn()) {
      const next = encodeURIComponent(location);
      navigate(`${paths.signIn()}?next=${next}`, { replace: true });
    }
    return <SignInPage />;
  }
  if (path === paths.signIn()) {
    const next = new URLSearchParams(location.split('?')[1] ?? '').get('next');
    // Only a path of this console: a crafted link cannot send the person elsewhere.
    navigate(next?.startsWith('/console/') ? next : paths.home(), { replace: true });
    return null;
  }
  return (
    <SessionContext.Provider value={me}>
      <Layout>
        <Page path={path} />
      </Layout>
    </SessionContext.Provider>
  );
}

function Page({ path }: { path: string }) {
  let params: Record<string, string> | null;
  if ((params = match('/console/queues/:queueId/items/:itemId', path)))
    return <ItemPage queueId={params.queueId ?? ''} itemId={params.itemId ?? ''} />;
  if ((params = match('/console/queues/:queueId', path))) return <QueuePage queueId={params.queueId ?? ''} />;
  if (match('/console/queues', path)) return <QueuesPage />;
  if ((params = match('/console/cycles/:cycleId', path))) return <CyclePage cycleId={params.cycleId ?? ''} />;
  if ((params = match('/console/agents/:agentId/config', path)))
    return <ConfigHistoryPage agentId={params.agentId ?? ''} />;
  if ((params = match('/console/agents/:agentId/coaching/:coachingId', path)))
    return <CoachingPage agentId={params.agentId ?? ''} coachingId={params.coachingId ?? ''} />;
  if ((params = match('/console/agents/:agentId/coaching', path)))
    return <CoachingListPage agentId={params.agentId ?? ''} />;
  if ((params = match('/console/agents/:agentId/online', path)))
    return <OnlineEvaluationPage agentId={params.agentId ?? ''} />;
  if ((params = match('/console/agents/:agentId', path)))
    return <AgentDashboardPage agentId={params.agentId ?? ''} />;
  if ((params = match('/console/rollouts/:rolloutId', path)))
    return <RolloutPage rolloutId={params.rolloutId ?? ''} />;
  if ((params = match('/console/prompts/:name', path))) return <PromptPage name={params.name ?? ''} />;
  if (match('/console/prompts', path)) return <PromptsPage />;
  if ((params = match('/console/datasets/:versionId', path)))
    return <DatasetVersionPage versionId={params.versionId ?? ''} />;
  if (match('/console/datasets', path)) return <DatasetsPage />;
  if (match('/console/artifacts', path)) return <ArtifactsPage />;
  if ((params = match('/console/traces/:traceId', path))) return <TracePage traceId={params.traceId ?? ''} />;
  if (match('/console/traces', path)) return <TracesPage />;
  if (match('/console', path)) return <HomePage />;
  return (
    <section>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>There is no console page at {path}.</p>
    </section>
  );
}
