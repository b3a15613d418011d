import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { type ConsoleConfig, loadConfig, rememberToken } from './console-config.ts';
import { OidcRoot } from './oidc-sign-in.tsx';
import './styles.css';

function Root({ initial }: { initial: ConsoleConfig }) {
  const [config, setConfig] = useState(initial);
  const onSignIn = (token: string | null) => {
    rememberToken(token);
    setConfig({ ...config, token, tokenSource: token ? 'session' : 'none' });
  };
  return <App key={config.token ?? 'signed-out'} config={config} onSignIn={onSignIn} />;
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
void loadConfig().then((config) =>
  createRoot(root).render(
    <StrictMode>
      {config.oidc ? <OidcRoot config={config} oidc={config.oidc} /> : <Root initial={config} />}
    </StrictMode>,
  ),
);
