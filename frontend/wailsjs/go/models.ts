export namespace app {
	
	export class Conflict {
	    id: string;
	    table: string;
	    rowId: string;
	    status: string;
	    base: any;
	    mine: any;
	    theirs: any;
	    winner: string;
	    fields: string[];
	    deviceId: string;
	    createdAt: number;
	    resolvedAt: number;
	    resolvedBy: string;
	    resolvedByPerson: string;
	    resolvedByName: string;
	    mineBy: string;
	    mineByName: string;
	    theirsBy: string;
	    theirsByName: string;
	    reason: string;
	    theirsVersion: number;
	    decision: string;
	    decisionError: string;
	    staleRow: any;
	    staleVersion: number;
	    rowVersion: number;
	    decided: any;
	    owner: string;
	
	    static createFrom(source: any = {}) {
	        return new Conflict(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.table = source["table"];
	        this.rowId = source["rowId"];
	        this.status = source["status"];
	        this.base = source["base"];
	        this.mine = source["mine"];
	        this.theirs = source["theirs"];
	        this.winner = source["winner"];
	        this.fields = source["fields"];
	        this.deviceId = source["deviceId"];
	        this.createdAt = source["createdAt"];
	        this.resolvedAt = source["resolvedAt"];
	        this.resolvedBy = source["resolvedBy"];
	        this.resolvedByPerson = source["resolvedByPerson"];
	        this.resolvedByName = source["resolvedByName"];
	        this.mineBy = source["mineBy"];
	        this.mineByName = source["mineByName"];
	        this.theirsBy = source["theirsBy"];
	        this.theirsByName = source["theirsByName"];
	        this.reason = source["reason"];
	        this.theirsVersion = source["theirsVersion"];
	        this.decision = source["decision"];
	        this.decisionError = source["decisionError"];
	        this.staleRow = source["staleRow"];
	        this.staleVersion = source["staleVersion"];
	        this.rowVersion = source["rowVersion"];
	        this.decided = source["decided"];
	        this.owner = source["owner"];
	    }
	}
	export class Counts {
	    records: number;
	    deletedRecords: number;
	    lineConfigs: number;
	    pending: number;
	
	    static createFrom(source: any = {}) {
	        return new Counts(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.records = source["records"];
	        this.deletedRecords = source["deletedRecords"];
	        this.lineConfigs = source["lineConfigs"];
	        this.pending = source["pending"];
	    }
	}
	export class LineShift {
	    lineId: string;
	    lineName: string;
	    units: UnitQuantity[];
	    unit: string;
	    mixed: boolean;
	    quantity: number;
	    records: number;
	    targetRate?: number;
	    targetSince?: number;
	    target?: number;
	    hourQuantity: number;
	    hourTarget?: number;
	    shiftTarget?: number;
	    projected?: number;
	
	    static createFrom(source: any = {}) {
	        return new LineShift(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.lineId = source["lineId"];
	        this.lineName = source["lineName"];
	        this.units = this.convertValues(source["units"], UnitQuantity);
	        this.unit = source["unit"];
	        this.mixed = source["mixed"];
	        this.quantity = source["quantity"];
	        this.records = source["records"];
	        this.targetRate = source["targetRate"];
	        this.targetSince = source["targetSince"];
	        this.target = source["target"];
	        this.hourQuantity = source["hourQuantity"];
	        this.hourTarget = source["hourTarget"];
	        this.shiftTarget = source["shiftTarget"];
	        this.projected = source["projected"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class ShiftNow {
	    name: string;
	    from: number;
	    to: number;
	    hourFrom: number;
	    hourTo: number;
	    lines: LineShift[];
	
	    static createFrom(source: any = {}) {
	        return new ShiftNow(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.name = source["name"];
	        this.from = source["from"];
	        this.to = source["to"];
	        this.hourFrom = source["hourFrom"];
	        this.hourTo = source["hourTo"];
	        this.lines = this.convertValues(source["lines"], LineShift);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class ProductInfo {
	    id: string;
	    name: string;
	    unit: string;
	
	    static createFrom(source: any = {}) {
	        return new ProductInfo(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.name = source["name"];
	        this.unit = source["unit"];
	    }
	}
	export class Ranked {
	    id: string;
	    name: string;
	    unit: string;
	    quantity: number;
	    records: number;
	    units?: UnitQuantity[];
	
	    static createFrom(source: any = {}) {
	        return new Ranked(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.name = source["name"];
	        this.unit = source["unit"];
	        this.quantity = source["quantity"];
	        this.records = source["records"];
	        this.units = this.convertValues(source["units"], UnitQuantity);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class UnitQuantity {
	    unit: string;
	    quantity: number;
	    records: number;
	
	    static createFrom(source: any = {}) {
	        return new UnitQuantity(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.unit = source["unit"];
	        this.quantity = source["quantity"];
	        this.records = source["records"];
	    }
	}
	export class LineActual {
	    lineId: string;
	    lineName: string;
	    units: UnitQuantity[];
	    unit: string;
	    mixed: boolean;
	    quantity: number;
	    records: number;
	    targetRate?: number;
	    targetSince?: number;
	    target?: number;
	
	    static createFrom(source: any = {}) {
	        return new LineActual(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.lineId = source["lineId"];
	        this.lineName = source["lineName"];
	        this.units = this.convertValues(source["units"], UnitQuantity);
	        this.unit = source["unit"];
	        this.mixed = source["mixed"];
	        this.quantity = source["quantity"];
	        this.records = source["records"];
	        this.targetRate = source["targetRate"];
	        this.targetSince = source["targetSince"];
	        this.target = source["target"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class DashboardTotal {
	    bucket: number;
	    lineId: string;
	    productId: string;
	    quantity: number;
	    records: number;
	
	    static createFrom(source: any = {}) {
	        return new DashboardTotal(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.bucket = source["bucket"];
	        this.lineId = source["lineId"];
	        this.productId = source["productId"];
	        this.quantity = source["quantity"];
	        this.records = source["records"];
	    }
	}
	export class DashboardBucket {
	    from: number;
	    to: number;
	    label: string;
	    hours: number;
	
	    static createFrom(source: any = {}) {
	        return new DashboardBucket(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.from = source["from"];
	        this.to = source["to"];
	        this.label = source["label"];
	        this.hours = source["hours"];
	    }
	}
	export class Dashboard {
	    from: number;
	    to: number;
	    now: number;
	    granularity: string;
	    timeZone: string;
	    shifts: period.Shift[];
	    buckets: DashboardBucket[];
	    totals: DashboardTotal[];
	    lines: LineActual[];
	    topProducts: Ranked[];
	    topOperators: Ranked[];
	    products: ProductInfo[];
	    shift?: ShiftNow;
	    rev: number;
	
	    static createFrom(source: any = {}) {
	        return new Dashboard(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.from = source["from"];
	        this.to = source["to"];
	        this.now = source["now"];
	        this.granularity = source["granularity"];
	        this.timeZone = source["timeZone"];
	        this.shifts = this.convertValues(source["shifts"], period.Shift);
	        this.buckets = this.convertValues(source["buckets"], DashboardBucket);
	        this.totals = this.convertValues(source["totals"], DashboardTotal);
	        this.lines = this.convertValues(source["lines"], LineActual);
	        this.topProducts = this.convertValues(source["topProducts"], Ranked);
	        this.topOperators = this.convertValues(source["topOperators"], Ranked);
	        this.products = this.convertValues(source["products"], ProductInfo);
	        this.shift = this.convertValues(source["shift"], ShiftNow);
	        this.rev = source["rev"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class DashboardQuery {
	    preset: string;
	    from: number;
	    to: number;
	    granularity: string;
	    lineId: string;
	    shifts: string;
	
	    static createFrom(source: any = {}) {
	        return new DashboardQuery(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.preset = source["preset"];
	        this.from = source["from"];
	        this.to = source["to"];
	        this.granularity = source["granularity"];
	        this.lineId = source["lineId"];
	        this.shifts = source["shifts"];
	    }
	}
	
	export class DataChanged {
	    rev: number;
	    from: number;
	    to: number;
	
	    static createFrom(source: any = {}) {
	        return new DataChanged(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.rev = source["rev"];
	        this.from = source["from"];
	        this.to = source["to"];
	    }
	}
	export class ExportResult {
	    id: string;
	    path: string;
	    rows: number;
	    cancelled: boolean;
	
	    static createFrom(source: any = {}) {
	        return new ExportResult(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.path = source["path"];
	        this.rows = source["rows"];
	        this.cancelled = source["cancelled"];
	    }
	}
	export class Failure {
	    code: string;
	    title: string;
	    message: string;
	    detail: string;
	
	    static createFrom(source: any = {}) {
	        return new Failure(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.code = source["code"];
	        this.title = source["title"];
	        this.message = source["message"];
	        this.detail = source["detail"];
	    }
	}
	export class FieldRule {
	    column: string;
	    kind: string;
	    required: boolean;
	    minLen: number;
	    maxLen: number;
	    hasRange: boolean;
	    min: number;
	    max: number;
	
	    static createFrom(source: any = {}) {
	        return new FieldRule(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.column = source["column"];
	        this.kind = source["kind"];
	        this.required = source["required"];
	        this.minLen = source["minLen"];
	        this.maxLen = source["maxLen"];
	        this.hasRange = source["hasRange"];
	        this.min = source["min"];
	        this.max = source["max"];
	    }
	}
	export class HeadquartersLink {
	    up: boolean;
	    lastSync: number;
	    waiting: number;
	    oldestMs: number;
	    error: string;
	    verifiedAt: number;
	
	    static createFrom(source: any = {}) {
	        return new HeadquartersLink(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.up = source["up"];
	        this.lastSync = source["lastSync"];
	        this.waiting = source["waiting"];
	        this.oldestMs = source["oldestMs"];
	        this.error = source["error"];
	        this.verifiedAt = source["verifiedAt"];
	    }
	}
	export class HistoryEntry {
	    version: number;
	    hlc: string;
	    deviceId: string;
	    row: any;
	    byName: string;
	
	    static createFrom(source: any = {}) {
	        return new HistoryEntry(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.version = source["version"];
	        this.hlc = source["hlc"];
	        this.deviceId = source["deviceId"];
	        this.row = source["row"];
	        this.byName = source["byName"];
	    }
	}
	export class Line {
	    id: string;
	    code: string;
	    name: string;
	    area: string;
	    active: boolean;
	    updatedBy: string;
	    updatedAt: number;
	    pending: boolean;
	    syncState?: string;
	
	    static createFrom(source: any = {}) {
	        return new Line(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.code = source["code"];
	        this.name = source["name"];
	        this.area = source["area"];
	        this.active = source["active"];
	        this.updatedBy = source["updatedBy"];
	        this.updatedAt = source["updatedAt"];
	        this.pending = source["pending"];
	        this.syncState = source["syncState"];
	    }
	}
	
	export class LineConfig {
	    id: string;
	    lineId: string;
	    recipe: string;
	    targetRatePerHour?: number;
	    temperatureC?: number;
	    speedRpm?: number;
	    notes?: string;
	    createdAt: number;
	    updatedAt: number;
	    pending: boolean;
	    syncState?: string;
	
	    static createFrom(source: any = {}) {
	        return new LineConfig(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.lineId = source["lineId"];
	        this.recipe = source["recipe"];
	        this.targetRatePerHour = source["targetRatePerHour"];
	        this.temperatureC = source["temperatureC"];
	        this.speedRpm = source["speedRpm"];
	        this.notes = source["notes"];
	        this.createdAt = source["createdAt"];
	        this.updatedAt = source["updatedAt"];
	        this.pending = source["pending"];
	        this.syncState = source["syncState"];
	    }
	}
	export class LineConfigInput {
	    lineId: string;
	    recipe: string;
	    targetRatePerHour?: number;
	    temperatureC?: number;
	    speedRpm?: number;
	    notes?: string;
	
	    static createFrom(source: any = {}) {
	        return new LineConfigInput(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.lineId = source["lineId"];
	        this.recipe = source["recipe"];
	        this.targetRatePerHour = source["targetRatePerHour"];
	        this.temperatureC = source["temperatureC"];
	        this.speedRpm = source["speedRpm"];
	        this.notes = source["notes"];
	    }
	}
	export class LineInput {
	    code: string;
	    name: string;
	    area: string;
	    active: boolean;
	
	    static createFrom(source: any = {}) {
	        return new LineInput(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.code = source["code"];
	        this.name = source["name"];
	        this.area = source["area"];
	        this.active = source["active"];
	    }
	}
	
	export class Person {
	    id: string;
	    badgeId: string;
	    displayName: string;
	    role: string;
	    active: boolean;
	    hasPin: boolean;
	    needsPin: boolean;
	    updatedBy: string;
	    updatedAt: number;
	    pending: boolean;
	    syncState?: string;
	    language: string;
	
	    static createFrom(source: any = {}) {
	        return new Person(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.badgeId = source["badgeId"];
	        this.displayName = source["displayName"];
	        this.role = source["role"];
	        this.active = source["active"];
	        this.hasPin = source["hasPin"];
	        this.needsPin = source["needsPin"];
	        this.updatedBy = source["updatedBy"];
	        this.updatedAt = source["updatedAt"];
	        this.pending = source["pending"];
	        this.syncState = source["syncState"];
	        this.language = source["language"];
	    }
	}
	export class PersonChoice {
	    badgeId: string;
	    displayName: string;
	    role: string;
	    needsPin: boolean;
	    language: string;
	
	    static createFrom(source: any = {}) {
	        return new PersonChoice(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.badgeId = source["badgeId"];
	        this.displayName = source["displayName"];
	        this.role = source["role"];
	        this.needsPin = source["needsPin"];
	        this.language = source["language"];
	    }
	}
	export class PersonInput {
	    badgeId: string;
	    displayName: string;
	    role: string;
	    active: boolean;
	    pin?: string;
	    language?: string;
	
	    static createFrom(source: any = {}) {
	        return new PersonInput(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.badgeId = source["badgeId"];
	        this.displayName = source["displayName"];
	        this.role = source["role"];
	        this.active = source["active"];
	        this.pin = source["pin"];
	        this.language = source["language"];
	    }
	}
	export class Product {
	    id: string;
	    code: string;
	    name: string;
	    unit: string;
	    minQuantity?: number;
	    maxQuantity?: number;
	    active: boolean;
	    updatedBy: string;
	    updatedAt: number;
	    pending: boolean;
	    syncState?: string;
	
	    static createFrom(source: any = {}) {
	        return new Product(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.code = source["code"];
	        this.name = source["name"];
	        this.unit = source["unit"];
	        this.minQuantity = source["minQuantity"];
	        this.maxQuantity = source["maxQuantity"];
	        this.active = source["active"];
	        this.updatedBy = source["updatedBy"];
	        this.updatedAt = source["updatedAt"];
	        this.pending = source["pending"];
	        this.syncState = source["syncState"];
	    }
	}
	
	export class ProductInput {
	    code: string;
	    name: string;
	    unit: string;
	    active: boolean;
	    minQuantity?: number;
	    maxQuantity?: number;
	
	    static createFrom(source: any = {}) {
	        return new ProductInput(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.code = source["code"];
	        this.name = source["name"];
	        this.unit = source["unit"];
	        this.active = source["active"];
	        this.minQuantity = source["minQuantity"];
	        this.maxQuantity = source["maxQuantity"];
	    }
	}
	export class QuarantinedRow {
	    table: string;
	    id: string;
	    reason: string;
	    since: number;
	    row: {[key: string]: any};
	    serverVersion: number;
	
	    static createFrom(source: any = {}) {
	        return new QuarantinedRow(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.table = source["table"];
	        this.id = source["id"];
	        this.reason = source["reason"];
	        this.since = source["since"];
	        this.row = source["row"];
	        this.serverVersion = source["serverVersion"];
	    }
	}
	
	export class Record {
	    id: string;
	    lineId: string;
	    productId: string;
	    quantity: number;
	    operatorId: string;
	    operatorName: string;
	    createdAt: number;
	    updatedAt: number;
	    deletedAt?: number;
	    pending: boolean;
	    syncState?: string;
	
	    static createFrom(source: any = {}) {
	        return new Record(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.lineId = source["lineId"];
	        this.productId = source["productId"];
	        this.quantity = source["quantity"];
	        this.operatorId = source["operatorId"];
	        this.operatorName = source["operatorName"];
	        this.createdAt = source["createdAt"];
	        this.updatedAt = source["updatedAt"];
	        this.deletedAt = source["deletedAt"];
	        this.pending = source["pending"];
	        this.syncState = source["syncState"];
	    }
	}
	export class RecordFilter {
	    lineId: string;
	    productId: string;
	    operatorId: string;
	    from: number;
	    to: number;
	    sort: string;
	    desc: boolean;
	    offset: number;
	    limit: number;
	
	    static createFrom(source: any = {}) {
	        return new RecordFilter(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.lineId = source["lineId"];
	        this.productId = source["productId"];
	        this.operatorId = source["operatorId"];
	        this.from = source["from"];
	        this.to = source["to"];
	        this.sort = source["sort"];
	        this.desc = source["desc"];
	        this.offset = source["offset"];
	        this.limit = source["limit"];
	    }
	}
	export class RecordInput {
	    lineId: string;
	    productId: string;
	    quantity: number;
	    operatorId: string;
	
	    static createFrom(source: any = {}) {
	        return new RecordInput(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.lineId = source["lineId"];
	        this.productId = source["productId"];
	        this.quantity = source["quantity"];
	        this.operatorId = source["operatorId"];
	    }
	}
	export class RecordPage {
	    records: Record[];
	    total: number;
	    offset: number;
	
	    static createFrom(source: any = {}) {
	        return new RecordPage(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.records = this.convertValues(source["records"], Record);
	        this.total = source["total"];
	        this.offset = source["offset"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Session {
	    required: boolean;
	    signedIn: boolean;
	    person?: PersonChoice;
	    idleSeconds: number;
	    expiresAt: number;
	    deviceRole: string;
	
	    static createFrom(source: any = {}) {
	        return new Session(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.required = source["required"];
	        this.signedIn = source["signedIn"];
	        this.person = this.convertValues(source["person"], PersonChoice);
	        this.idleSeconds = source["idleSeconds"];
	        this.expiresAt = source["expiresAt"];
	        this.deviceRole = source["deviceRole"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class SettingField {
	    field: string;
	    value: string;
	    source: string;
	    locked: boolean;
	    secret: boolean;
	
	    static createFrom(source: any = {}) {
	        return new SettingField(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.field = source["field"];
	        this.value = source["value"];
	        this.source = source["source"];
	        this.locked = source["locked"];
	        this.secret = source["secret"];
	    }
	}
	
	export class SignInStep {
	    person: PersonChoice;
	    needsPin: boolean;
	    lockedUntil: number;
	
	    static createFrom(source: any = {}) {
	        return new SignInStep(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.person = this.convertValues(source["person"], PersonChoice);
	        this.needsPin = source["needsPin"];
	        this.lockedUntil = source["lockedUntil"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class SiteSettings {
	    timeZone: string;
	    shifts: string;
	    clockSkewMinutes: number;
	    idleSignOutSeconds: number;
	    pinRoles: string[];
	    configured: boolean;
	    pending: boolean;
	
	    static createFrom(source: any = {}) {
	        return new SiteSettings(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.timeZone = source["timeZone"];
	        this.shifts = source["shifts"];
	        this.clockSkewMinutes = source["clockSkewMinutes"];
	        this.idleSignOutSeconds = source["idleSignOutSeconds"];
	        this.pinRoles = source["pinRoles"];
	        this.configured = source["configured"];
	        this.pending = source["pending"];
	    }
	}
	export class SiteData {
	    lines: Line[];
	    products: Product[];
	    people: Person[];
	    settings: SiteSettings;
	    canEdit: boolean;
	    editBlocked: string;
	    editBlockedCode?: string;
	    editBlockedParams?: {[key: string]: any};
	
	    static createFrom(source: any = {}) {
	        return new SiteData(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.lines = this.convertValues(source["lines"], Line);
	        this.products = this.convertValues(source["products"], Product);
	        this.people = this.convertValues(source["people"], Person);
	        this.settings = this.convertValues(source["settings"], SiteSettings);
	        this.canEdit = source["canEdit"];
	        this.editBlocked = source["editBlocked"];
	        this.editBlockedCode = source["editBlockedCode"];
	        this.editBlockedParams = source["editBlockedParams"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class SiteSettingsInput {
	    timeZone: string;
	    shifts: string;
	    clockSkewMinutes: number;
	    idleSignOutSeconds: number;
	    pinRoles: string[];
	
	    static createFrom(source: any = {}) {
	        return new SiteSettingsInput(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.timeZone = source["timeZone"];
	        this.shifts = source["shifts"];
	        this.clockSkewMinutes = source["clockSkewMinutes"];
	        this.idleSignOutSeconds = source["idleSignOutSeconds"];
	        this.pinRoles = source["pinRoles"];
	    }
	}
	export class Status {
	    version: string;
	    storeOpen: boolean;
	    encrypted: boolean;
	    cipherVersion: string;
	    dbPath: string;
	    keySource: string;
	    counts: Counts;
	    sync: string;
	    failure?: Failure;
	
	    static createFrom(source: any = {}) {
	        return new Status(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.version = source["version"];
	        this.storeOpen = source["storeOpen"];
	        this.encrypted = source["encrypted"];
	        this.cipherVersion = source["cipherVersion"];
	        this.dbPath = source["dbPath"];
	        this.keySource = source["keySource"];
	        this.counts = this.convertValues(source["counts"], Counts);
	        this.sync = source["sync"];
	        this.failure = this.convertValues(source["failure"], Failure);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class SyncProgress {
	    phase: string;
	    pushed: number;
	    pulled: number;
	    cursor: number;
	    target: number;
	
	    static createFrom(source: any = {}) {
	        return new SyncProgress(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.phase = source["phase"];
	        this.pushed = source["pushed"];
	        this.pulled = source["pulled"];
	        this.cursor = source["cursor"];
	        this.target = source["target"];
	    }
	}
	export class SyncSettings {
	    fields: SettingField[];
	    configError: string;
	    codeConfigured: boolean;
	    autoEnrolling: boolean;
	    autoEnrollError: string;
	    autoEnrollCode?: string;
	    autoEnrollParams?: {[key: string]: any};
	
	    static createFrom(source: any = {}) {
	        return new SyncSettings(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.fields = this.convertValues(source["fields"], SettingField);
	        this.configError = source["configError"];
	        this.codeConfigured = source["codeConfigured"];
	        this.autoEnrolling = source["autoEnrolling"];
	        this.autoEnrollError = source["autoEnrollError"];
	        this.autoEnrollCode = source["autoEnrollCode"];
	        this.autoEnrollParams = source["autoEnrollParams"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class SyncVerification {
	    at: number;
	    cursor: number;
	    tables: {[key: string]: number};
	    problem: string;
	    repaired: number;
	    unresolved: number;
	
	    static createFrom(source: any = {}) {
	        return new SyncVerification(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.at = source["at"];
	        this.cursor = source["cursor"];
	        this.tables = source["tables"];
	        this.problem = source["problem"];
	        this.repaired = source["repaired"];
	        this.unresolved = source["unresolved"];
	    }
	}
	export class SyncStatus {
	    enrolled: boolean;
	    serverUrl: string;
	    siteId: string;
	    role: string;
	    deviceId: string;
	    online: boolean;
	    syncing: boolean;
	    pending: number;
	    inFlight: number;
	    awaitingReview: number;
	    rejected: number;
	    openConflicts: number;
	    lastSync: number;
	    lastError: string;
	    clockOffsetMs: number;
	    clockWarning: boolean;
	    progress: SyncProgress;
	    verify: SyncVerification;
	    headquarters?: HeadquartersLink;
	
	    static createFrom(source: any = {}) {
	        return new SyncStatus(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.enrolled = source["enrolled"];
	        this.serverUrl = source["serverUrl"];
	        this.siteId = source["siteId"];
	        this.role = source["role"];
	        this.deviceId = source["deviceId"];
	        this.online = source["online"];
	        this.syncing = source["syncing"];
	        this.pending = source["pending"];
	        this.inFlight = source["inFlight"];
	        this.awaitingReview = source["awaitingReview"];
	        this.rejected = source["rejected"];
	        this.openConflicts = source["openConflicts"];
	        this.lastSync = source["lastSync"];
	        this.lastError = source["lastError"];
	        this.clockOffsetMs = source["clockOffsetMs"];
	        this.clockWarning = source["clockWarning"];
	        this.progress = this.convertValues(source["progress"], SyncProgress);
	        this.verify = this.convertValues(source["verify"], SyncVerification);
	        this.headquarters = this.convertValues(source["headquarters"], HeadquartersLink);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class TableSchema {
	    name: string;
	    fields: FieldRule[];
	    merged: string[];
	
	    static createFrom(source: any = {}) {
	        return new TableSchema(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.name = source["name"];
	        this.fields = this.convertValues(source["fields"], FieldRule);
	        this.merged = source["merged"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class TerminalPrefs {
	    lastLine: string;
	    lastOperator: string;
	    setupSkipped: boolean;
	    dashboardShifts: string;
	    scanSoundOff: boolean;
	
	    static createFrom(source: any = {}) {
	        return new TerminalPrefs(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.lastLine = source["lastLine"];
	        this.lastOperator = source["lastOperator"];
	        this.setupSkipped = source["setupSkipped"];
	        this.dashboardShifts = source["dashboardShifts"];
	        this.scanSoundOff = source["scanSoundOff"];
	    }
	}

}

export namespace period {
	
	export class Shift {
	    name: string;
	    start: number;
	
	    static createFrom(source: any = {}) {
	        return new Shift(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.name = source["name"];
	        this.start = source["start"];
	    }
	}

}

