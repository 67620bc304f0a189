/*
 * A stand-in for Microsoft's WebView2 Evergreen Standalone Installer, for
 * `make package-test` only (never shipped; the real one is 150+ MB and served
 * by Microsoft alone). package.sh embeds it as WEBVIEW2_INSTALLER; under Wine
 * it records that it ran, and with which arguments, in
 * C:\webview2-installer-ran.txt, then registers a runtime version as the real
 * one does, so that the installers' "missing, then install" path is checked.
 */
#include <windows.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	FILE *f = fopen("C:\\webview2-installer-ran.txt", "a");
	HKEY key;
	int i;

	if (f == NULL)
		return 2;
	for (i = 1; i < argc; i++)
		fprintf(f, "%s%s", i > 1 ? " " : "", argv[i]);
	fprintf(f, "\n");
	fclose(f);
	if (RegCreateKeyExA(HKEY_LOCAL_MACHINE,
	    "SOFTWARE\\WOW6432Node\\Microsoft\\EdgeUpdate\\Clients\\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}",
	    0, NULL, 0, KEY_WRITE | KEY_WOW64_64KEY, NULL, &key, NULL) != ERROR_SUCCESS)
		return 3;
	RegSetValueExA(key, "pv", 0, REG_SZ, (const BYTE *)"120.0.0.0", 10);
	RegCloseKey(key);
	return 0;
}
