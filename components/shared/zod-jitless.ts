import { z } from "zod";

// Zod probes `new Function` once to compile fast parsers; under the app's CSP (no
// 'unsafe-eval', docs/security.md) the browser reports that probe as a violation even though
// zod catches it. In the browser, parse without it.
if (typeof window !== "undefined") z.config({ jitless: true });
