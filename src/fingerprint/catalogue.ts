// Every signature, imported statically so the bundler inlines the data.
// Adding a product: drop signatures/<product>.json and add one import and one
// entry here (catalogue.test.ts fails until both exist).

import akamai from "../../signatures/akamai.json" with { type: "json" };
import apache from "../../signatures/apache.json" with { type: "json" };
import apisix from "../../signatures/apisix.json" with { type: "json" };
import aspnet from "../../signatures/aspnet.json" with { type: "json" };
import awsApiGateway from "../../signatures/aws-api-gateway.json" with { type: "json" };
import awsS3 from "../../signatures/aws-s3.json" with { type: "json" };
import awsWaf from "../../signatures/aws-waf.json" with { type: "json" };
import azureAppGateway from "../../signatures/azure-app-gateway.json" with { type: "json" };
import azureFrontDoor from "../../signatures/azure-front-door.json" with { type: "json" };
import barracuda from "../../signatures/barracuda.json" with { type: "json" };
import caddy from "../../signatures/caddy.json" with { type: "json" };
import cloudflare from "../../signatures/cloudflare.json" with { type: "json" };
import cloudfront from "../../signatures/cloudfront.json" with { type: "json" };
import coraza from "../../signatures/coraza.json" with { type: "json" };
import django from "../../signatures/django.json" with { type: "json" };
import envoy from "../../signatures/envoy.json" with { type: "json" };
import express from "../../signatures/express.json" with { type: "json" };
import f5Bigip from "../../signatures/f5-bigip.json" with { type: "json" };
import fastly from "../../signatures/fastly.json" with { type: "json" };
import flask from "../../signatures/flask.json" with { type: "json" };
import fortiweb from "../../signatures/fortiweb.json" with { type: "json" };
import githubApi from "../../signatures/github-api.json" with { type: "json" };
import gitlab from "../../signatures/gitlab.json" with { type: "json" };
import googleCloudArmor from "../../signatures/google-cloud-armor.json" with { type: "json" };
import googleCloudStorage from "../../signatures/google-cloud-storage.json" with { type: "json" };
import gunicorn from "../../signatures/gunicorn.json" with { type: "json" };
import haproxy from "../../signatures/haproxy.json" with { type: "json" };
import iis from "../../signatures/iis.json" with { type: "json" };
import imperva from "../../signatures/imperva.json" with { type: "json" };
import kong from "../../signatures/kong.json" with { type: "json" };
import laravel from "../../signatures/laravel.json" with { type: "json" };
import litespeed from "../../signatures/litespeed.json" with { type: "json" };
import modsecurity from "../../signatures/modsecurity.json" with { type: "json" };
import netlify from "../../signatures/netlify.json" with { type: "json" };
import nginx from "../../signatures/nginx.json" with { type: "json" };
import openresty from "../../signatures/openresty.json" with { type: "json" };
import rails from "../../signatures/rails.json" with { type: "json" };
import shopify from "../../signatures/shopify.json" with { type: "json" };
import spring from "../../signatures/spring.json" with { type: "json" };
import squid from "../../signatures/squid.json" with { type: "json" };
import sucuri from "../../signatures/sucuri.json" with { type: "json" };
import tomcat from "../../signatures/tomcat.json" with { type: "json" };
import traefik from "../../signatures/traefik.json" with { type: "json" };
import varnish from "../../signatures/varnish.json" with { type: "json" };
import vercel from "../../signatures/vercel.json" with { type: "json" };
import wordfence from "../../signatures/wordfence.json" with { type: "json" };
import { parseSignature, type Signature } from "./signature-schema.js";

/** [file name without .json, raw JSON] for every file in signatures/. */
export const RAW_SIGNATURES: ReadonlyArray<readonly [string, unknown]> = [
  ["akamai", akamai],
  ["apache", apache],
  ["apisix", apisix],
  ["aspnet", aspnet],
  ["aws-api-gateway", awsApiGateway],
  ["aws-s3", awsS3],
  ["aws-waf", awsWaf],
  ["azure-app-gateway", azureAppGateway],
  ["azure-front-door", azureFrontDoor],
  ["barracuda", barracuda],
  ["caddy", caddy],
  ["cloudflare", cloudflare],
  ["cloudfront", cloudfront],
  ["coraza", coraza],
  ["django", django],
  ["envoy", envoy],
  ["express", express],
  ["f5-bigip", f5Bigip],
  ["fastly", fastly],
  ["flask", flask],
  ["fortiweb", fortiweb],
  ["github-api", githubApi],
  ["gitlab", gitlab],
  ["google-cloud-armor", googleCloudArmor],
  ["google-cloud-storage", googleCloudStorage],
  ["gunicorn", gunicorn],
  ["haproxy", haproxy],
  ["iis", iis],
  ["imperva", imperva],
  ["kong", kong],
  ["laravel", laravel],
  ["litespeed", litespeed],
  ["modsecurity", modsecurity],
  ["netlify", netlify],
  ["nginx", nginx],
  ["openresty", openresty],
  ["rails", rails],
  ["shopify", shopify],
  ["spring", spring],
  ["squid", squid],
  ["sucuri", sucuri],
  ["tomcat", tomcat],
  ["traefik", traefik],
  ["varnish", varnish],
  ["vercel", vercel],
  ["wordfence", wordfence],
];

let parsed: Signature[] | undefined;

/** All signatures, validated once. Throws if a data file is malformed (a bug, not user input). */
export function loadCatalogue(): readonly Signature[] {
  if (!parsed) {
    parsed = RAW_SIGNATURES.map(([file, raw]) => {
      const sig = parseSignature(raw, `signatures/${file}.json`);
      if (sig.product !== file) throw new Error(`signatures/${file}.json declares product ${sig.product}`);
      return sig;
    });
  }
  return parsed;
}
