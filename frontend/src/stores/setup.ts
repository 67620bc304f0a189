// Whether the Setup screen stands in for every screen: the header hides the
// tabs, the screen shortcuts do nothing and the status bar does not point
// at a screen while it does (issue 20).
import { derived } from 'svelte/store';
import { appStatus } from './status';
import { syncStatus, syncSettings } from './sync';
import { prefs, prefsLoaded } from './prefs';
import { siteData } from './site';
import { siteDataHere } from '../screens/sync/offline';

/** setupNeeded is true while this computer must be connected to a sync
 * server first: the store is open, it is not enrolled, and nobody chose to
 * work offline (only allowed once the site's people and products are here,
 * issue 20), nor is it connecting by itself with a code IT configured. */
export const setupNeeded = derived(
  [appStatus, syncStatus, prefs, prefsLoaded, siteData, syncSettings],
  ([$app, $sync, $prefs, $prefsLoaded, $site, $settings]) =>
    $app.phase === 'ready' &&
    $app.status.storeOpen &&
    $sync.phase === 'ready' &&
    !$sync.status.enrolled &&
    $prefsLoaded &&
    (!$prefs.setupSkipped || ($site.loaded && !$site.error && !siteDataHere($site.data))) &&
    $settings !== null &&
    !$settings.autoEnrolling &&
    !$settings.configError,
);
