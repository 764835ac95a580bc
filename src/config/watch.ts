/**
 * Watches the config file, routes directory and plugins directory; calls back (debounced)
 * when anything in them changes. Watches are re-made after each change, so directories
 * swapped in by symlink (Kubernetes ConfigMap volumes update through `..data`) stay watched.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface WatchTargets {
  configFile?: string;
  routesDir: string;
  pluginsDir: string;
}

export function watchConfig(targets: WatchTargets, onChange: (what: string) => void, debounceMs = 250): () => void {
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  let stopped = false;
  const fire = (what: string) => {
    last = what;
    clearTimeout(timer);
    timer = setTimeout(() => {
      arm();
      onChange(last);
    }, debounceMs);
  };
  const add = (dir: string, filter?: (name: string) => boolean) => {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        const n = name?.toString() ?? '';
        if (!filter || filter(n)) fire(path.join(dir, n));
      });
      w.on('error', () => undefined);
      watchers.push(w);
    } catch {
      // A directory that does not exist yet is not watched; SIGHUP or POST /reload still work.
    }
  };
  const arm = () => {
    for (const w of watchers) w.close();
    watchers = [];
    if (stopped) return;
    add(targets.routesDir);
    add(targets.pluginsDir);
    if (targets.configFile) {
      const dir = path.dirname(targets.configFile);
      const base = path.basename(targets.configFile);
      add(dir, (n) => n === base || n === '..data' || path.join(dir, n) === targets.routesDir);
    }
  };
  arm();
  return () => {
    stopped = true;
    clearTimeout(timer);
    arm();
  };
}
