// Whether this terminal may work offline before (or without) a sync server.
import type { SiteData } from '../../lib/api';

/**
 * siteDataHere says whether the site's lines, products or people are on this
 * terminal (pulled from the server once, and kept after a disconnect). A
 * terminal without them has never reached its site: nobody could be checked
 * at sign-in nor any code, so it does not record (app/services.go,
 * siteReached) and "Work offline" is not offered.
 */
export function siteDataHere(d: SiteData | null | undefined): boolean {
  return !!d && d.lines.length + d.products.length + d.people.length > 0;
}
