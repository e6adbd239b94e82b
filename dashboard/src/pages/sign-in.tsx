import { type FormEvent, useState } from "react";
import type { Whoami } from "../../../src/http/contract";
import { signIn } from "../session";

export function SignInPage({ onSignedIn, notice }: { onSignedIn: (who: Whoami) => void; notice?: string | null }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(token));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} className="panel">
        <h1>Overseer</h1>
        <p>
          Paste an API token: the admin token <code>overseer start</code> printed, or one from{" "}
          <code>overseer tokens create --scope viewer|operator|admin</code>. It is kept in this tab only.
        </p>
        {notice && <p className="muted">{notice}</p>}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          // biome-ignore lint/a11y/noAutofocus: the only field on the page
          autoFocus
          value={token}
          onChange={(e) => setToken(e.target.value)}
          placeholder="ovs_…"
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
