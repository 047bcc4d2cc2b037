; Invite Desk's Windows installer as built on Linux (`make bundle-windows`), with the makensis of
; the system. Release installers are made by the Tauri bundler on a Windows runner (CI); that one
; needs downloads this build does without. Both install the same way: for the current user only
; (no administrator rights), under %LOCALAPPDATA%\Invite Desk, with the same uninstall entry, so
; either one replaces the other.
;
; Defines (makensis -D…): VERSION (x.y.z), APP_EXE (the built invite-desk.exe), OUTFILE, ICON,
; and optionally WEBVIEW2_LOADER (WebView2Loader.dll, which a GNU build loads at run time) and
; WEBVIEW2_BOOTSTRAPPER (MicrosoftEdgeWebview2Setup.exe, embedded when given).

Unicode true
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma

!include MUI2.nsh
!include LogicLib.nsh

!define PRODUCTNAME "Invite Desk"
!define MANUFACTURER "Invite Desk"
!define MAINBINARYNAME "invite-desk"
!define HOMEPAGE "https://github.com/invitedesk/invite-desk"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCTNAME}"
!define MANUKEY "Software\${MANUFACTURER}\${PRODUCTNAME}"
; The WebView2 Evergreen runtime's client id, per machine and per user.
!define WEBVIEW2_CLIENT "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"

Name "${PRODUCTNAME}"
OutFile "${OUTFILE}"
Icon "${ICON}"
UninstallIcon "${ICON}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\${PRODUCTNAME}"
InstallDirRegKey HKCU "${MANUKEY}" ""
BrandingText "${PRODUCTNAME} ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCTNAME}"
VIAddVersionKey "CompanyName" "${MANUFACTURER}"
VIAddVersionKey "LegalCopyright" "Copyright © 2026 the Invite Desk authors"
VIAddVersionKey "FileDescription" "${PRODUCTNAME} setup"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_FINISHPAGE_RUN "$INSTDIR\${MAINBINARYNAME}.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Open ${PRODUCTNAME}"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function WebView2Version
  ; $0 = the installed WebView2 runtime's version, or "" when there is none.
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    ReadRegStr $0 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${EndIf}
  ${If} $0 == "0.0.0.0"
    StrCpy $0 ""
  ${EndIf}
FunctionEnd

Section "Install"
  Call WebView2Version
  ${If} $0 == ""
    !ifdef WEBVIEW2_BOOTSTRAPPER
      DetailPrint "Installing Microsoft Edge WebView2 (the window Invite Desk draws in)"
      File "/oname=$TEMP\MicrosoftEdgeWebview2Setup.exe" "${WEBVIEW2_BOOTSTRAPPER}"
      ExecWait '"$TEMP\MicrosoftEdgeWebview2Setup.exe" /silent /install' $1
      Delete "$TEMP\MicrosoftEdgeWebview2Setup.exe"
      ${If} $1 != 0
        DetailPrint "WebView2 setup ended with code $1"
      ${EndIf}
    !else
      MessageBox MB_YESNO|MB_ICONINFORMATION "${PRODUCTNAME} draws its window with Microsoft Edge WebView2, which this computer does not have yet. Open Microsoft's download page now?" /SD IDNO IDNO +2
        ExecShell "open" "https://go.microsoft.com/fwlink/p/?LinkId=2124703"
    !endif
  ${EndIf}

  SetOutPath "$INSTDIR"
  File "/oname=${MAINBINARYNAME}.exe" "${APP_EXE}"
  !ifdef WEBVIEW2_LOADER
    File "${WEBVIEW2_LOADER}"
  !endif
  WriteUninstaller "$INSTDIR\uninstall.exe"
  ; In a Start menu folder of its own, where the Tauri bundler's installer (bundle.windows.nsis.
  ; startMenuFolder) puts it: either installer then updates the same shortcut.
  CreateDirectory "$SMPROGRAMS\${PRODUCTNAME}"
  CreateShortcut "$SMPROGRAMS\${PRODUCTNAME}\${PRODUCTNAME}.lnk" "$INSTDIR\${MAINBINARYNAME}.exe"

  WriteRegStr HKCU "${MANUKEY}" "" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${PRODUCTNAME}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$\"$INSTDIR\${MAINBINARYNAME}.exe$\""
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "${MANUFACTURER}"
  WriteRegStr HKCU "${UNINSTKEY}" "URLInfoAbout" "${HOMEPAGE}"
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$\"$INSTDIR$\""
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" "$\"$INSTDIR\uninstall.exe$\""
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" "$\"$INSTDIR\uninstall.exe$\" /S"
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  ; The owner's workspaces, history and keychain entries stay: installing again brings them back.
  Delete "$INSTDIR\${MAINBINARYNAME}.exe"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${PRODUCTNAME}\${PRODUCTNAME}.lnk"
  RMDir "$SMPROGRAMS\${PRODUCTNAME}"
  Delete "$SMPROGRAMS\${PRODUCTNAME}.lnk"
  DeleteRegKey HKCU "${UNINSTKEY}"
  DeleteRegKey HKCU "${MANUKEY}"
SectionEnd
