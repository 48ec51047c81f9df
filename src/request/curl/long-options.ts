// The long options of curl 7.88.1 (Debian 12's curl, the one the lab runs), as
// `curl --help all` lists them, under the names curl's own parser matches: a
// boolean listed as --no-NAME is NAME there (--no-buffer is "buffer" negated).
// A trailing "=" marks an option that takes a value. curl accepts any
// unambiguous prefix of these names, so the whole table matters even for the
// options why403 does not model. Checked against the installed binary by
// curl.test.ts when curl is present.

export const CURL_LONG_OPTIONS_TEXT = `
abstract-unix-socket= alpn alt-svc= anyauth append aws-sigv4= basic buffer cacert= capath=
cert-status cert-type= cert= ciphers= clobber compressed compressed-ssh config=
connect-timeout= connect-to= continue-at= cookie-jar= cookie= create-dirs create-file-mode=
crlf crlfile= curves= data-ascii= data-binary= data-raw= data-urlencode= data= delegation=
digest disable disable-eprt disable-epsv disallow-username-in-url dns-interface= dns-ipv4-addr=
dns-ipv6-addr= dns-servers= doh-cert-status doh-insecure doh-url= dump-header= egd-file=
engine= etag-compare= etag-save= expect100-timeout= fail fail-early fail-with-body false-start
form-escape form-string= form= ftp-account= ftp-alternative-to-user= ftp-create-dirs
ftp-method= ftp-pasv ftp-port= ftp-pret ftp-skip-pasv-ip ftp-ssl-ccc ftp-ssl-ccc-mode=
ftp-ssl-control get globoff happy-eyeballs-timeout-ms= haproxy-protocol head header= help
hostpubmd5= hostpubsha256= hsts= http0.9 http1.0 http1.1 http2 http2-prior-knowledge http3
http3-only ignore-content-length include insecure interface= ipv4 ipv6 json=
junk-session-cookies keepalive keepalive-time= key-type= key= krb= libcurl= limit-rate=
list-only local-port= location location-trusted login-options= mail-auth= mail-from=
mail-rcpt-allowfails mail-rcpt= manual max-filesize= max-redirs= max-time= metalink negotiate
netrc netrc-file= netrc-optional next noproxy= npn ntlm ntlm-wb oauth2-bearer= output-dir=
output= parallel parallel-immediate parallel-max= pass= path-as-is pinnedpubkey= post301
post302 post303 preproxy= progress-bar progress-meter proto-default= proto-redir= proto= proxy=
proxy-anyauth proxy-basic proxy-cacert= proxy-capath= proxy-cert-type= proxy-cert=
proxy-ciphers= proxy-crlfile= proxy-digest proxy-header= proxy-insecure proxy-key-type=
proxy-key= proxy-negotiate proxy-ntlm proxy-pass= proxy-pinnedpubkey= proxy-service-name=
proxy-ssl-allow-beast proxy-ssl-auto-client-cert proxy-tls13-ciphers= proxy-tlsauthtype=
proxy-tlspassword= proxy-tlsuser= proxy-tlsv1 proxy-user= proxy1.0= proxytunnel pubkey= quote=
random-file= range= rate= raw referer= remote-header-name remote-name remote-name-all
remote-time remove-on-error request-target= request= resolve= retry-all-errors
retry-connrefused retry-delay= retry-max-time= retry= sasl-authzid= sasl-ir service-name=
sessionid show-error silent socks4= socks4a= socks5-basic socks5-gssapi socks5-gssapi-nec
socks5-gssapi-service= socks5-hostname= socks5= speed-limit= speed-time= ssl ssl-allow-beast
ssl-auto-client-cert ssl-no-revoke ssl-reqd ssl-revoke-best-effort sslv2 sslv3 stderr=
styled-output suppress-connect-headers tcp-fastopen tcp-nodelay telnet-option= tftp-blksize=
tftp-no-options time-cond= tls-max= tls13-ciphers= tlsauthtype= tlspassword= tlsuser= tlsv1
tlsv1.0 tlsv1.1 tlsv1.2 tlsv1.3 tr-encoding trace-ascii= trace-time trace= unix-socket=
upload-file= url-query= url= use-ascii user-agent= user= verbose version write-out= xattr
`;

export interface CurlLongOption {
  name: string;
  takesValue: boolean;
}

export const CURL_LONG_OPTIONS: readonly CurlLongOption[] = CURL_LONG_OPTIONS_TEXT.split(/\s+/)
  .filter((w) => w !== "")
  .map((w) => ({ name: w.replace(/=$/, ""), takesValue: w.endsWith("=") }));
