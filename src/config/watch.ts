/** Watches the config files and directories; calls back (debounced) when anything in them changes. */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface WatchTargets {
  configFile?: string;
  routesDir: string;
  pluginsDir: string;
}

export function watchConfig(targets: WatchTargets, onChange: (what: string) => void, debounceMs = 250): () => void {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const fire = (what: string) => {
    last = what;
    clearTimeout(timer);
    timer = setTimeout(() => onChange(last), debounceMs);
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
  add(targets.routesDir);
  add(targets.pluginsDir);
  // The config file's directory, filtered to the file, so editors that replace the file are seen.
  if (targets.configFile) add(path.dirname(targets.configFile), (n) => n === path.basename(targets.configFile!));
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
