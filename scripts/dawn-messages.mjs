// Dawn (the npm `webgpu` package) writes what its loaders could not do ("Warning: Couldn't load Vulkan: …" with
// a source location, "…artificially reduced…" limits on OpenGL, " - While initializing adapter …" context lines
// after a warning) to the process's native stderr, where JavaScript cannot reach it; so does Mesa's Vulkan
// window-system layer when Dawn probes a software Vulkan driver on a machine without a desktop session
// ("error: XDG_RUNTIME_DIR is invalid…", harmless: nothing is drawn on screen). scripts/run.mjs passes each
// command's stderr through this filter, which drops exactly those lines and forwards everything else at once (a
// progress bar's partial lines included).

/** A Dawn message line: its warnings, and the source location line (and blank line) Dawn adds after some. */
const DAWN_WARNING = /^Warning: /;
const DAWN_LOCATION = /^\s+at .*[\\/]dawn[\\/]/;
/** The context Dawn adds under a warning: " - While initializing adapter (backend=…)". */
const DAWN_CONTEXT = ' - While ';
const MESA_NO_SESSION = 'error: XDG_RUNTIME_DIR is invalid or not set in the environment.';

/** Returns `write(text)` that forwards `text` to `out` without Dawn's lines, and `end()` for what is left. */
export function dawnMessageFilter(out) {
  let line = ''; // the current line so far, held back only while it may still become a Dawn line
  let atLineStart = true;
  let afterLocation = false;
  let afterWarning = false; // the last line was a dropped warning or its context
  const prefixOf = (whole, text) => whole.startsWith(text) || text.startsWith(whole);
  const mayBeDawn = (text) =>
    DAWN_WARNING.test(text) || 'Warning: '.startsWith(text) || /^\s+(a(t( .*)?)?)?$/.test(text) || (afterLocation && text === '') ||
    MESA_NO_SESSION.startsWith(text) || (afterWarning && prefixOf(DAWN_CONTEXT, text));
  const complete = (text) => {
    const context = afterWarning && text.startsWith(DAWN_CONTEXT);
    const drop = DAWN_WARNING.test(text) || DAWN_LOCATION.test(text) || (afterLocation && text === '') || text === MESA_NO_SESSION || context;
    afterLocation = DAWN_LOCATION.test(text);
    afterWarning = DAWN_WARNING.test(text) || context;
    if (!drop) out(`${text}\n`);
  };
  return {
    write(text) {
      let rest = text;
      while (rest.length) {
        const newline = rest.indexOf('\n');
        if (!atLineStart) {
          // Inside a line that was already forwarded: forward up to and including its end.
          const upTo = newline < 0 ? rest.length : newline + 1;
          out(rest.slice(0, upTo));
          rest = rest.slice(upTo);
          atLineStart = newline >= 0;
          continue;
        }
        if (newline < 0) {
          line += rest;
          rest = '';
          if (!mayBeDawn(line)) {
            out(line);
            line = '';
            atLineStart = false;
            afterLocation = false;
            afterWarning = false;
          }
          continue;
        }
        complete(line + rest.slice(0, newline));
        line = '';
        rest = rest.slice(newline + 1);
      }
    },
    end() {
      if (line && !mayBeDawn(line)) out(line);
      line = '';
    },
  };
}
