# cut.py: how the subsets here were cut from the providers' own files.
#
# Inputs (fetched from the repositories and commits each subset's x-source
# names, saved under /tmp): /tmp/pd-events.json and /tmp/pd-rest.json
# (PagerDuty/api-schema reference/events-v2 and REST openapiv3.json),
# /tmp/slack.json (slackapi/slack-api-specs
# web-api/slack_web_openapi_v2_without_examples.json), /tmp/tw.json
# (twilio/twilio-oai spec/json/twilio_api_v2010.json) and the shared Vercel
# subset (../shared/specs/vercel-rest-api-subset.json). github-rest-subset.json
# and statuspage-subset.json are transcribed by hand (see their x-source).
#
# To check a new request, add its operation to the lists below (or, for a
# hand-written subset, copy it from the provider's file) and run
# `python3 cut.py`.
import json, copy
import os
OUT=os.path.dirname(os.path.abspath(__file__))+'/'
def resolve(doc, v, depth=0):
    if depth>30: return v
    if isinstance(v, dict):
        if '$ref' in v and v['$ref'].startswith('#/'):
            cur=doc
            for part in v['$ref'][2:].split('/'):
                cur=cur[int(part)] if isinstance(cur,list) else cur[part.replace('~1','/').replace('~0','~')]
            return resolve(doc, copy.deepcopy(cur), depth+1)
        return {k: resolve(doc, x, depth+1) for k,x in v.items() if k not in ('examples','example')}
    if isinstance(v, list): return [resolve(doc, x, depth+1) for x in v]
    return v
def strip_responses(op):
    op=dict(op)
    if 'responses' in op:
        op['responses']={k:{'description': (r.get('description','') if isinstance(r,dict) else '')} for k,r in op['responses'].items()}
    return op
def dump(name, d):
    json.dump(d, open(OUT+name,'w'), indent=1, sort_keys=False)
    open(OUT+name,'a').write('\n')

# PagerDuty Events v2
d=json.load(open('/tmp/pd-events.json'))
op=resolve(d, strip_responses(d['paths']['/enqueue']['post']))
dump('pagerduty-events-v2-subset.json', {
 'x-source': {'repo':'PagerDuty/api-schema','path':'reference/events-v2/openapiv3.json','commit':'91a06fb3c64b0ab2b2bd6c485d12b327dfb55c18 (2026-08-14)',
   'note':'A subset: POST /enqueue (createV2Event) only; $refs resolved, examples dropped, responses cut to their descriptions.'},
 'openapi': d['openapi'], 'info': {'title': d['info']['title'], 'version': d['info']['version']}, 'servers': d['servers'],
 'paths': {'/enqueue': {'post': op}}})

# PagerDuty REST: GET /incidents
d=json.load(open('/tmp/pd-rest.json'))
op=resolve(d, strip_responses(d['paths']['/incidents']['get']))
op.pop('description', None)
dump('pagerduty-rest-subset.json', {
 'x-source': {'repo':'PagerDuty/api-schema','path':'reference/REST/openapiv3.json','commit':'91a06fb3c64b0ab2b2bd6c485d12b327dfb55c18 (2026-08-14)',
   'note':'A subset: GET /incidents (listIncidents) only; $refs resolved, examples dropped, responses cut to their descriptions.'},
 'openapi': d['openapi'], 'info': {'title': 'PagerDuty REST API', 'version': d['info']['version']}, 'servers': d['servers'],
 'paths': {'/incidents': {'get': op}}})

# Slack Web API
d=json.load(open('/tmp/slack.json'))
want='auth.test conversations.create conversations.invite conversations.archive conversations.members views.open views.update chat.postMessage conversations.info chat.update chat.postEphemeral conversations.open users.info users.lookupByEmail users.list usergroups.list usergroups.users.list usergroups.users.update'.split()
paths={}
for w in want:
    for m,op in d['paths']['/'+w].items():
        op=resolve(d, op)
        op={k:op[k] for k in ('operationId','description','parameters','externalDocs') if k in op}
        for p in op.get('parameters',[]):
            if p['name']=='token':
                p['in'], p['required'] = 'header', False
        paths.setdefault('/'+w,{})[m]=op
def added(method, params, doc, desc):
    return {'post': {'operationId': method.replace('.','_'), 'description': desc, 'x-added-from': doc,
        'parameters': [{'name':'token','in':'header','type':'string','required':False,'description':'Authentication token bearing required scopes.'}] + [dict(name=n, **{'in':'formData','type':t,'required':r}) for n,t,r in params]}}
paths['/files.getUploadURLExternal']=added('files.getUploadURLExternal', [('filename','string',True),('length','integer',True),('alt_txt','string',False),('snippet_type','string',False)],
  'https://docs.slack.dev/reference/methods/files.getUploadURLExternal', 'Gets a URL for an edge external file upload')
paths['/files.completeUploadExternal']=added('files.completeUploadExternal', [('files','string',True),('channel_id','string',False),('thread_ts','string',False),('channels','string',False),('initial_comment','string',False),('blocks','string',False)],
  'https://docs.slack.dev/reference/methods/files.completeUploadExternal', 'Finishes an upload started with files.getUploadURLExternal')
paths['/apps.connections.open']=added('apps.connections.open', [], 'https://docs.slack.dev/reference/methods/apps.connections.open', 'Generate a temporary Socket Mode WebSocket URL that your app can connect to in order to receive events and interactive payloads over (app-level token).')
paths['/users.list']['get']['parameters'].append({'name':'team_id','in':'query','type':'string','required':False,
  'description':'encoded team id to list users in, required if org token is used','x-added-from':'https://docs.slack.dev/reference/methods/users.list'})
inv=paths['/conversations.invite']['post']['parameters']
inv.append({'name':'force','in':'formData','type':'boolean','required':False,'x-added-from':'https://docs.slack.dev/reference/methods/conversations.invite (force: continue inviting the valid IDs; added November 2023)'})
for p in inv:
    if p['name']=='users': p['description']='A comma separated list of user IDs. Up to 1000 users may be listed.'
dump('slack-web-api-subset.json', {
 'x-source': {'repo':'slackapi/slack-api-specs','path':'web-api/slack_web_openapi_v2_without_examples.json','commit':'bc08db49625630e3585bf2f1322128ea04f2a7f3 (2021-09-07), Slack Web API 1.7.0',
   'note':'A subset: the methods the bot calls, their parameters only. Each token parameter is declared in: header, required: false here (the file varies between header and query): Slack takes the token in the Authorization header or as an argument of any method (https://docs.slack.dev/authentication/tokens), and slack-go sends it as a form argument. Methods and arguments newer than this file (marked x-added-from) are transcribed from the method pages of docs.slack.dev: files.getUploadURLExternal, files.completeUploadExternal, apps.connections.open, conversations.invite force and users.list team_id.'},
 'x-any-method': True,
 'x-any-method-why': 'Slack Web API methods take GET or POST, and their arguments as a query string, a form or (for POST) JSON: https://docs.slack.dev/apis/web-api/#basics',
 'swagger': d['swagger'], 'info': {'title': d['info']['title'], 'version': d['info']['version']}, 'host': d['host'], 'basePath': d['basePath'],
 'paths': paths})

# Vercel: the shared subset, with the rollback operation moved in from x-not-in-this-spec-version
d=json.load(open('/work/shared/specs/vercel-rest-api-subset.json'))
extra=d.pop('x-not-in-this-spec-version')
rb=extra['POST /v1/projects/{projectId}/rollback/{deploymentId}']
rbop={k:rb[k] for k in ('operationId','summary','description','parameters')}
rbop['x-source']=rb['source']
rbop['responses']={k:{'description':v} for k,v in rb['responses'].items()}
d['paths']['/v1/projects/{projectId}/rollback/{deploymentId}']={'post': rbop}
envop=d['paths']['/v10/projects/{idOrName}/env']['get']
envop['parameters'].append({'name':'until','in':'query','required':False,'schema':{'type':'number'},
  'x-added-from':'The answer carries pagination.next, "Timestamp that must be used to request the next page"; Vercel pages every list by passing it as until (https://vercel.com/docs/rest-api/reference/welcome#pagination). This spec version does not list until for this operation.'})
for p,ops in d['paths'].items():
    for m,op in list(ops.items()):
        ops[m]=strip_responses(op)
d['x-source']['note'] += ' In this copy: POST /v1/projects/{projectId}/rollback/{deploymentId} (requestRollback) is moved into paths from x-not-in-this-spec-version (source in its x-source); until is added to the env list (see its x-added-from); responses are cut to their descriptions.'
d.setdefault('info', {'title':'Vercel REST API', 'version':'subset of vercel/sdk vercel-spec.json 1aada4a8c'})
dump('vercel-rest-subset.json', d)

# Twilio API v2010: Messages and Calls
d=json.load(open('/tmp/tw.json'))
keep={'/2010-04-01/Accounts/{AccountSid}/Messages.json':['get','post'],'/2010-04-01/Accounts/{AccountSid}/Calls.json':['get','post'],
      '/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json':['get','post']}
paths={}
for p,ms in keep.items():
    for m in ms:
        op=strip_responses(d['paths'][p][m])
        for k in ('x-twilio','x-maturity'):
            op.pop(k,None)
        op=resolve(d, op)
        paths.setdefault(p,{})[m]=op
dump('twilio-api-v2010-subset.json', {
 'x-source': {'repo':'twilio/twilio-oai','path':'spec/json/twilio_api_v2010.json','commit':'d50069b44ea8cd23141385bdb6db48f16ff75bb5 (2026-04-14)',
   'note':'A subset: create and list Messages, create and list Calls, fetch and update a Call; $refs resolved, responses cut to their descriptions.'},
 'openapi': d['openapi'], 'info': {'title': 'Twilio - Api', 'version': d['info']['version']+' (API 2010-04-01)'}, 'servers': d['servers'],
 'paths': paths})
