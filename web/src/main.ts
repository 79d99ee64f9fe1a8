import { setToken, token } from './api.js';
import { connect } from './live.js';
import { alerts, models, overview, run, runs } from './pages.js';
import type { Cleanup } from './pages.js';
import './style.css';

const app = document.querySelector<HTMLElement>('#app')!;
let cleanup: Cleanup = () => undefined;

/** `#/runs/<id>`, `#/runs?flow=x`, `#/models?range=7d`, `#/alerts`, `#/?range=24h`. */
function route(): void {
  cleanup();
  delete app.dataset.loaded;
  window.scrollTo(0, 0);
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  const page = path.startsWith('/runs/') ? 'run' : path === '/runs' ? 'runs' : path === '/models' ? 'models' : path === '/alerts' ? 'alerts' : 'overview';
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) a.classList.toggle('on', a.dataset.page === (page === 'run' ? 'runs' : page));
  switch (page) {
    case 'run':
      cleanup = run(app, decodeURIComponent(path.slice('/runs/'.length)));
      break;
    case 'runs':
      cleanup = runs(app, params);
      break;
    case 'models':
      cleanup = models(app, params.get('range') ?? '24h');
      break;
    case 'alerts':
      cleanup = alerts(app);
      break;
    case 'overview':
      cleanup = overview(app, params.get('range') ?? '1h');
      break;
  }
}

/** The server asked for a token: a prompt in place of the page; the token is kept for this tab only. */
function login(): void {
  cleanup();
  app.innerHTML = `<form class="login" id="login"><h1>Sign in</h1>
    <p>This flowmeter server needs its bearer token (<code>--token</code>, <code>FLOWMETER_TOKEN</code>).</p>
    <input type="password" name="token" placeholder="token" autocomplete="current-password" required />
    <button>Open the dashboard</button>${token() === null ? '' : '<p class="error" role="alert">That token was not accepted.</p>'}</form>`;
  app.dataset.loaded = 'login';
  app.querySelector<HTMLFormElement>('#login')!.onsubmit = (e) => {
    e.preventDefault();
    const value = new FormData(e.target as HTMLFormElement).get('token');
    setToken(typeof value === 'string' ? value : '');
    location.reload();
  };
}

function theme(): void {
  const saved = localStorage.getItem('flowmeter.theme');
  if (saved !== null) document.documentElement.dataset.theme = saved;
  document.querySelector<HTMLButtonElement>('#theme')!.onclick = () => {
    const dark = (document.documentElement.dataset.theme ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light')) === 'dark';
    document.documentElement.dataset.theme = dark ? 'light' : 'dark';
    localStorage.setItem('flowmeter.theme', dark ? 'light' : 'dark');
    route();
  };
}

// A token in the URL (`#token=…` is never sent to the server) is taken once and removed.
const fromUrl = /[#&]token=([^&]+)/.exec(location.hash);
if (fromUrl !== null) {
  setToken(decodeURIComponent(fromUrl[1]!));
  location.hash = '#/';
}
window.addEventListener('flowmeter:login', login);
window.addEventListener('hashchange', route);
theme();
connect(document.querySelector<HTMLElement>('#live-status')!);
route();
