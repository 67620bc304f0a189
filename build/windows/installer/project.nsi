# A 64-bit installer: Outpost is x64-only, and wine64 can run it in tests.
Target amd64-unicode
# Outpost's Windows installer: per-machine, silent-capable (/S), writes the
# managed configuration from command-line parameters, keeps user data on
# uninstall unless /PURGE. See docs/deployment.md for the parameters.
#
# `wails build -platform windows/amd64 -nsis` builds it as is (and generates
# wails_tools.nsh beside this file). build/package/package.sh then runs
# makensis again with:
#   -DARG_WAILS_AMD64_BINARY=<signed outpost.exe>
#   -DOUTPOST_VERSION=<git describe>   -DOUTPOST_VERSION4=<a.b.c.d>
#   -DOUTPOST_OUTFILE=<installer path> -DOUTPOST_RECOVER_BINARY=<exe>
#   -DOUTPOST_CONFIG_BINARY=<exe>
#   -DOUTPOST_SIGN_CMD=<script that Authenticode-signs "%1" in place>
#   -DOUTPOST_WEBVIEW2_INSTALLER=<the WebView2 Evergreen Standalone Installer>
#                                (package.sh's WEBVIEW2_INSTALLER; optional)

!define INFO_PROJECTNAME   "Outpost"
!define INFO_COMPANYNAME   "Outpost"
!define INFO_PRODUCTNAME   "Outpost"
!define PRODUCT_EXECUTABLE "outpost.exe"
!define UNINST_KEY_NAME    "Outpost"
!ifdef OUTPOST_VERSION4
  !define INFO_PRODUCTVERSION "${OUTPOST_VERSION}"
!endif
!include "wails_tools.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "WordFunc.nsh"

!ifndef OUTPOST_VERSION4
  !define OUTPOST_VERSION4 "${INFO_PRODUCTVERSION}.0"
!endif
VIProductVersion "${OUTPOST_VERSION4}"
VIFileVersion    "${OUTPOST_VERSION4}"
VIAddVersionKey "CompanyName"     "${INFO_COMPANYNAME}"
VIAddVersionKey "FileDescription" "${INFO_PRODUCTNAME} Installer"
VIAddVersionKey "ProductVersion"  "${INFO_PRODUCTVERSION}"
VIAddVersionKey "FileVersion"     "${INFO_PRODUCTVERSION}"
VIAddVersionKey "LegalCopyright"  "Copyright (c) ${INFO_COMPANYNAME}"
VIAddVersionKey "ProductName"     "${INFO_PRODUCTNAME}"

# Authenticode: the uninstaller is signed as it is generated, the installer
# once it is complete. The command reads its certificate from the environment.
!ifdef OUTPOST_SIGN_CMD
  !uninstfinalize '"${OUTPOST_SIGN_CMD}" "%1"' = 0
  !finalize '"${OUTPOST_SIGN_CMD}" "%1"' = 0
!endif

ManifestDPIAware true
SetCompressor /SOLID lzma

!include "MUI.nsh"
!define MUI_ICON "..\icon.ico"
!define MUI_UNICON "..\icon.ico"
!define MUI_ABORTWARNING
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Name "${INFO_PRODUCTNAME}"
!ifdef OUTPOST_OUTFILE
  OutFile "${OUTPOST_OUTFILE}"
!else
  OutFile "..\..\bin\${INFO_PROJECTNAME}-${ARCH}-installer.exe"
!endif
# Per-machine only: every operator of the PC uses the same installation.
InstallDir "$PROGRAMFILES64\${INFO_PRODUCTNAME}"
InstallDirRegKey HKLM "${UNINST_KEY}" "InstallLocation"
ShowInstDetails show

Var ConfigDir

# GetArg: the value of one /NAME=value parameter, Windows-style: it ends at
# the first space, unless quoted as /NAME="a b" or "/NAME=a b" (FileFunc's
# GetOptions would cut a URL at its first "/").
#   Push <command line>  Push "/NAME="  Call GetArg  Pop <value, "" if absent>
Function GetArg
  Exch $1        # the option, e.g. /SERVER=
  Exch
  Exch $0        # the command line
  Push $2        # position
  Push $3        # scratch
  Push $4        # length of the option
  Push $5        # the character that ends the value
  Push $6        # the value
  StrLen $4 $1
  StrCpy $2 0
  StrCpy $6 ""
  find:
    StrCpy $3 $0 $4 $2
    StrCmp $3 "" done
    StrCmp $3 $1 found    # StrCmp ignores case: /server= works too
    IntOp $2 $2 + 1
    Goto find
  found:
    StrCpy $5 " "
    IntCmp $2 0 value
    IntOp $3 $2 - 1
    StrCpy $3 $0 1 $3
    StrCmp $3 " " value
    StrCmp $3 '"' 0 notarg
    StrCpy $5 '"'         # "/NAME=a b"
    Goto value
  notarg:                 # inside another argument: keep looking
    IntOp $2 $2 + 1
    Goto find
  value:
    IntOp $2 $2 + $4
    StrCmp $5 '"' read
    StrCpy $3 $0 1 $2
    StrCmp $3 '"' 0 read
    StrCpy $5 '"'         # /NAME="a b"
    IntOp $2 $2 + 1
  read:
    StrCpy $3 $0 1 $2
    StrCmp $3 "" done
    StrCmp $3 $5 done
    StrCpy $6 "$6$3"
    IntOp $2 $2 + 1
    Goto read
  done:
  StrCpy $0 $6
  Pop $6
  Pop $5
  Pop $4
  Pop $3
  Pop $2
  Exch
  Pop $1
  Exch $0
FunctionEnd

!macro GetArg NAME OUT
  Push $R0
  Push "${NAME}"
  Call GetArg
  Pop ${OUT}
!macroend

# JSONEscape: $0 in, $0 out, with \ and " escaped for a JSON string.
Function JSONEscape
  ${WordReplace} "$0" "\" "\\" "+" $0
  ${WordReplace} "$0" '"' '\"' "+" $0
FunctionEnd

# WriteField: appends "name": "value" (value in $0, escaped) to the open
# file $9; $8 holds the separator (empty before the first field).
!macro WriteField NAME
  ${If} $0 != ""
    Call JSONEscape
    FileWriteUTF16LE $9 '$8$\r$\n  "${NAME}": "$0"'
    StrCpy $8 ","
  ${EndIf}
!macroend

Function .onInit
  !insertmacro wails.checkArchitecture
  SetShellVarContext all
  SetRegView 64
FunctionEnd

# Closes a running Outpost before its files are replaced: politely first
# (its database is crash-safe either way), then by force.
Function CloseRunningApp
  nsExec::Exec '"$SYSDIR\cmd.exe" /c tasklist /FI "IMAGENAME eq ${PRODUCT_EXECUTABLE}" /NH | "$SYSDIR\find.exe" /I "${PRODUCT_EXECUTABLE}"'
  Pop $0
  StrCmp $0 "0" 0 done
  ${IfNot} ${Silent}
    MessageBox MB_OKCANCEL|MB_ICONINFORMATION "Outpost is running and will be closed to update it. Your records are kept." IDOK +2
    Abort
  ${EndIf}
  DetailPrint "Closing the running Outpost"
  nsExec::Exec 'taskkill /IM ${PRODUCT_EXECUTABLE}'
  Sleep 3000
  nsExec::Exec 'taskkill /F /IM ${PRODUCT_EXECUTABLE}'
  Sleep 500
done:
FunctionEnd

# WriteManagedConfig writes %ProgramData%\Outpost\config.json ($APPDATA in the all-users context) from the
# parameters /SERVER= /ENROLL= /CA= /PROXY= /RECOVERY= /KIOSKKEY= /LOCK=,
# or copies the file named by /CONFIG=. Without any of them an existing file
# is left alone (upgrades keep IT's configuration).
Function WriteManagedConfig
  StrCpy $ConfigDir "$APPDATA\Outpost"
  CreateDirectory "$ConfigDir"
  # Only administrators may write the managed configuration; everyone reads it.
  nsExec::Exec 'icacls "$ConfigDir" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-32-545:(OI)(CI)RX'
  Pop $0

  ${GetParameters} $R0
  !insertmacro GetArg "/CONFIG=" $R1
  ${If} $R1 != ""
    DetailPrint "Managed configuration: copying $R1"
    ClearErrors
    CopyFiles /SILENT "$R1" "$ConfigDir\config.json"
    IfErrors 0 +3
      SetErrorLevel 2
      Abort "Cannot copy the configuration file $R1"
    Return
  ${EndIf}

  !insertmacro GetArg "/SERVER=" $R3
  !insertmacro GetArg "/ENROLL=" $R4
  !insertmacro GetArg "/CA=" $R5
  !insertmacro GetArg "/PROXY=" $R6
  !insertmacro GetArg "/RECOVERY=" $R7
  !insertmacro GetArg "/KIOSKKEY=" $R8
  !insertmacro GetArg "/LOCK=" $R9
  StrCpy $R2 "$R3$R4$R5$R6$R7$R8$R9"
  ${If} $R2 == ""
    Return
  ${EndIf}

  ${If} ${FileExists} "$ConfigDir\config.json"
    Delete "$ConfigDir\config.json.bak"
    Rename "$ConfigDir\config.json" "$ConfigDir\config.json.bak"
  ${EndIf}
  DetailPrint "Managed configuration: writing $ConfigDir\config.json"
  ClearErrors
  FileOpen $9 "$ConfigDir\config.json" w
  IfErrors 0 +3
    SetErrorLevel 2
    Abort "Cannot write $ConfigDir\config.json"
  # UTF-16LE with a byte order mark: Outpost reads it like UTF-8.
  FileWriteWord $9 0xFEFF
  FileWriteUTF16LE $9 '{'
  StrCpy $8 ""
  StrCpy $0 $R3
  !insertmacro WriteField "server_url"
  StrCpy $0 $R4
  !insertmacro WriteField "enrollment_code"
  StrCpy $0 $R5
  !insertmacro WriteField "ca_bundle"
  StrCpy $0 $R6
  !insertmacro WriteField "proxy_url"
  StrCpy $0 $R7
  !insertmacro WriteField "recovery_public_key"
  StrCpy $0 $R8
  !insertmacro WriteField "kiosk_key_file"
  ${If} $R9 != ""
    # /LOCK=server_url,proxy_url  ->  "locked": ["server_url","proxy_url"]
    ${WordReplace} "$R9" " " "" "+" $0
    ${WordReplace} "$0" "," '","' "+" $0
    FileWriteUTF16LE $9 '$8$\r$\n  "locked": ["$0"]'
  ${EndIf}
  FileWriteUTF16LE $9 '$\r$\n}$\r$\n'
  FileClose $9
FunctionEnd

# WebView2 is never downloaded: Outpost is offline-first, and a download would
# ignore its proxy and CA settings. With OUTPOST_WEBVIEW2_INSTALLER the
# installer carries Microsoft's standalone installer and runs it silently
# when the runtime is missing; without it a missing runtime is left to IT,
# and the app says so in a sentence when it starts.
!macro outpost.webview2
  SetRegView 64
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}" "pv"
  ${If} $0 == "0.0.0.0"
    StrCpy $0 ""
  ${EndIf}
  ${If} $0 == ""
    !ifdef OUTPOST_WEBVIEW2_INSTALLER
      SetDetailsPrint both
      DetailPrint "Installing: WebView2 Runtime"
      SetDetailsPrint listonly
      InitPluginsDir
      File "/oname=$PLUGINSDIR\MicrosoftEdgeWebView2Setup.exe" "${OUTPOST_WEBVIEW2_INSTALLER}"
      ExecWait '"$PLUGINSDIR\MicrosoftEdgeWebView2Setup.exe" /silent /install' $1
      DetailPrint "WebView2 Runtime installer exit code: $1"
      SetDetailsPrint both
    !else
      DetailPrint "WebView2 Runtime missing: Outpost will not start until IT installs it"
    !endif
  ${EndIf}
!macroend

Section
  SetShellVarContext all
  SetRegView 64
  Call CloseRunningApp

  !insertmacro outpost.webview2

  SetOutPath $INSTDIR
  !insertmacro wails.files
  !ifdef OUTPOST_RECOVER_BINARY
    File "/oname=outpost-recover.exe" "${OUTPOST_RECOVER_BINARY}"
  !endif
  !ifdef OUTPOST_CONFIG_BINARY
    File "/oname=outpost-config.exe" "${OUTPOST_CONFIG_BINARY}"
  !endif

  Call WriteManagedConfig

  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} "$R0" "/NODESKTOPSHORTCUT" $R1
  ${If} ${Errors}
    CreateShortcut "$DESKTOP\${INFO_PRODUCTNAME}.lnk" "$INSTDIR\${PRODUCT_EXECUTABLE}"
  ${EndIf}
  CreateShortcut "$SMPROGRAMS\${INFO_PRODUCTNAME}.lnk" "$INSTDIR\${PRODUCT_EXECUTABLE}"

  !insertmacro wails.writeUninstaller
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${INFO_PRODUCTVERSION}"
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
SectionEnd

# The uninstaller removes the program and its shortcuts. Databases, the
# user settings and the managed configuration stay (they may hold edits not
# yet synced) unless it is run with /PURGE, which also deletes every
# profile's %LocalAppData%\Outpost and %AppData%\Outpost and
# %ProgramData%\Outpost.
Section "uninstall"
  SetShellVarContext all
  SetRegView 64
  nsExec::Exec 'taskkill /F /IM ${PRODUCT_EXECUTABLE}'

  Delete "$INSTDIR\${PRODUCT_EXECUTABLE}"
  Delete "$INSTDIR\outpost-recover.exe"
  Delete "$INSTDIR\outpost-config.exe"
  Delete "$SMPROGRAMS\${INFO_PRODUCTNAME}.lnk"
  Delete "$DESKTOP\${INFO_PRODUCTNAME}.lnk"
  !insertmacro wails.deleteUninstaller
  RMDir "$INSTDIR"

  ${un.GetParameters} $R0
  ClearErrors
  ${un.GetOptions} "$R0" "/PURGE" $R1
  ${IfNot} ${Errors}
    DetailPrint "Purging Outpost data of every profile"
    RMDir /r "$APPDATA\Outpost"
    StrCpy $R2 0
    loop:
      EnumRegKey $R3 HKLM "SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList" $R2
      StrCmp $R3 "" done
      ReadRegStr $R4 HKLM "SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\$R3" "ProfileImagePath"
      ExpandEnvStrings $R4 $R4
      ${If} $R4 != ""
        RMDir /r "$R4\AppData\Local\Outpost"
        RMDir /r "$R4\AppData\Roaming\Outpost"
        RMDir /r "$R4\AppData\Roaming\${PRODUCT_EXECUTABLE}"
      ${EndIf}
      IntOp $R2 $R2 + 1
      Goto loop
    done:
  ${EndIf}
SectionEnd
