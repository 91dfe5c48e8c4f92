// The mobile scenario through the generated Kotlin bindings, run on the JVM
// with JNA: open a book in a temp file, add a customer, get a validation error
// with its violations, find a duplicate, run a segment, merge and unmerge —
// plus bad input, a closed book and several threads. Exits non-zero on failure.
// Run by scripts/test.sh (see bindings/ffi/tests/kotlin/run.sh).

import kehu.*
import java.io.File
import java.nio.file.Files
import java.time.Instant
import java.time.LocalDate
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

var checks = 0

fun check(ok: Boolean, what: () -> String) {
    checks++
    if (!ok) throw AssertionError("check failed: " + what())
}

inline fun <reified E : Throwable> expect(what: String, call: () -> Unit): E {
    try {
        call()
    } catch (e: Throwable) {
        if (e is E) { checks++; return e }
        throw AssertionError("$what: expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("$what: expected ${E::class.simpleName}, nothing was thrown")
}

fun wei(): Customer {
    val c = newPerson("Wei", "Zhang")
    c.emails = listOf(newEmail("Wei.Zhang@Example.com"))
    c.phones = listOf(newPhone("+86 138 1234 5678"))
    c.birthDate = LocalDate.of(1990, 5, 17)
    return c
}

fun scenario(dir: File) {
    val book = Book.open(File(dir, "phone.kehu").path, OpenOptions(actor = "rep-7"))

    // Add a customer.
    val added = book.add(wei())
    val c = added.customer
    check(added.region == null) { "a number with its country code needs no region" }
    val lei = newPerson("Lei", "Li")
    lei.phones = listOf(newPhone("13800138000"))
    check(book.validate(lei).region == ImpliedRegion("CN", "number")) { "region from the number" }
    // A resident ID kept in its 18-character form, checked, found through its index.
    val zhang = newPerson("伟", "张")
    zhang.residentId = "11010519491231002x"
    zhang.birthDate = LocalDate.of(1949, 12, 31)
    val saved = book.add(zhang).customer
    check(saved.residentId == "11010519491231002X") { "resident id ${saved.residentId}" }
    check(book.findByResidentId("110105 19491231 002X").map { it.id } == listOf(saved.id)) { "find by resident id" }
    check(book.findBy("身份证号", "11010519491231002X").size == 1) { "find by a catalogue name" }
    val wrong = newPerson("芳", "王")
    wrong.residentId = "110105199002301231"
    val refused = expect<KehuException.Invalid>("an impossible date inside a resident id") { book.add(wrong) }
    check(refused.violations.map { it.code } == listOf("id.date")) { "${refused.violations}" }
    book.remove(saved.id)
    check(c.version == 1uL) { "version ${c.version}" }
    check(c.phones[0].number == "+8613812345678") { c.phones[0].number }
    check(c.emails[0].address == "Wei.Zhang@example.com") { c.emails[0].address }
    check(c.birthDate == LocalDate.of(1990, 5, 17)) { "birth date ${c.birthDate}" }
    check(book.get(c.id) == c) { "get" }

    // A validation error with every violation and its path; nothing written.
    val bad = newPerson("", "")
    bad.emails = listOf(newEmail("not-an-email"))
    val invalid = expect<KehuException.Invalid>("invalid add") { book.add(bad) }
    val paths = invalid.violations.map { it.path }.toSet()
    check("name" in paths && "emails[0].address" in paths) { "paths $paths" }
    check(invalid.code == "invalid" && invalid.path in paths) { "code ${invalid.code} path ${invalid.path}" }
    check(invalid.violations.all { it.severity == Severity.ERROR }) { "severities" }
    check(!invalid.message!!.contains("not-an-email")) { "the value leaked into the message" }
    check(book.count() == 1uL) { "count after a refused add" }

    // A duplicate at entry.
    val candidates = book.checkDuplicates(wei())
    check(candidates[0].id == c.id && candidates[0].probability > 0.99) { "candidates $candidates" }
    check(candidates[0].action == DuplicateAction.BLOCK) { "action" }
    val dup = expect<KehuException.Duplicate>("duplicate add") { book.add(wei()) }
    check(dup.code == "duplicate" && dup.candidates[0].id == c.id) { "duplicate error" }
    check(listOf("example.com", "Zhang", "8613812345678").none { dup.message!!.contains(it) }) {
        "personal values in the duplicate error's message: ${dup.message}"
    }
    val second = book.addAllowingDuplicates(wei()).customer

    // A purchase and a segment.
    val before = Instant.now()
    val purchase = Purchase(id = "", customerId = c.id, at = Instant.now(), amount = Money(129900, "CNY"))
    val stored = book.relate(RelatedRecord.Purchase(purchase)) as RelatedRecord.Purchase
    check(stored.record.id.isNotEmpty()) { "purchase id" }
    check(book.purchases(c.id)[0].amount == Money(129900, "CNY")) { "purchase amount" }
    val members = book.segmentMembers("purchases.count >= 1 and email ends_with \"@example.com\"", null)
    check(members.map { it.id } == listOf(c.id)) { "members $members" }
    check(book.segmentCount("purchases.count >= 1", before.minusSeconds(1)) == 0uL) { "as of" }
    val why = book.explainSegment("purchases.count >= 1", c.id, null)
    check(why.member && why.tests[0].held == true) { "explanation $why" }
    val syntax = expect<KehuException.FilterSyntax>("bad filter") { book.segmentCount("purchases.count >=", null) }
    check(syntax.line == 1u && syntax.path == "condition") { "filter error $syntax" }

    // Merge and unmerge.
    val merged = book.merge(listOf(c.id, second.id), null, false)
    check(merged.customer.id == c.id && book.count() == 1uL) { "merge" }
    val restored = book.unmerge(merged.receipt!!.id)
    check(restored.map { it.id }.toSet() == setOf(c.id, second.id) && book.count() == 2uL) { "unmerge" }
    check(book.mergeReceipt(merged.receipt!!.id).unmerged) { "receipt unmerged" }

    // Every write is checked: a batch of copies is skipped row by row, and
    // the first copy is what the second duplicates when both are new.
    val count = book.count()
    val copies = book.addMany(listOf(wei(), wei()))
    check(copies.all { it.status == WriteStatus.SKIPPED } && copies[0].duplicates.isNotEmpty()) { "addMany $copies" }
    check(book.count() == count) { "nothing added" }
    val allowed = book.addManyWith(listOf(wei()), BatchOptions(onDuplicate = OnDuplicate.ALLOW))
    check(allowed[0].status == WriteStatus.ADDED && book.count() == count + 1uL) { "allow" }
    check(book.addManyIds(listOf(wei())) == listOf("")) { "addManyIds skips a copy" }

    // A dossier as of an instant: none before it was created.
    check(book.customerAsOf(c.id, Instant.EPOCH) == null) { "as of the epoch" }
    check(book.customerAsOf(c.id, Instant.now())?.id == c.id) { "as of now" }

    // History and audit.
    check(book.history(c.id).first().op == "created") { "history" }
    check(book.verifyAudit().intact) { "audit" }
    book.closeBook()
}

fun badInput(dir: File) {
    val book = Book.open(File(dir, "bad.kehu").path, OpenOptions())
    val empty = expect<KehuException.InvalidArgument>("empty id") { book.get("") }
    check(empty.code == "invalid_argument" && empty.path == "id") { "empty id error" }
    expect<KehuException.InvalidArgument>("malformed id") { book.get("not-a-uuid") }
    val missing = expect<KehuException.NotFound>("unknown id") { book.get("0190f5c2-0000-7000-8000-000000000000") }
    check(missing.code == "not_found") { missing.code }
    expect<KehuException.InvalidArgument>("empty condition") { book.segmentCount("", null) }
    expect<KehuException.FilterSyntax>("deep nesting") { book.segmentCount("(".repeat(100_000), null) }
    val huge = newPerson("W".repeat(5_000_000), "Zhang")
    huge.emails = listOf(newEmail("big@example.com"))
    val refused = expect<KehuException.Invalid>("huge name") { book.add(huge) }
    check(!refused.message!!.contains("WWWWWWWWWW")) { "the huge value leaked into the message" }
    val odd = wei()
    odd.custom = mapOf("level" to CustomValue.Decimal("twelve"))
    val decimal = expect<KehuException.InvalidArgument>("bad decimal") { book.validate(odd) }
    check(decimal.path == "custom.level") { "decimal path ${decimal.path}" }
    expect<KehuException.InvalidArgument>("cache out of range") {
        Book.open(File(dir, "x.kehu").path, OpenOptions(cacheMb = 0u))
    }
    expect<KehuException.InvalidArgument>("empty path") { Book.open("", OpenOptions()) }
    expect<KehuException.Io>("missing file") { book.importFile("/no/such/file.csv", ImportOptions(), null) }
    check(book.count() == 0uL) { "nothing written" }

    // Several threads at once, then a closed book.
    val pool = Executors.newFixedThreadPool(4)
    val failures = java.util.concurrent.ConcurrentLinkedQueue<Throwable>()
    for (t in 0 until 4) {
        pool.submit {
            try {
                for (i in 0 until 50) {
                    val p = newPerson("P$t", "Q$i")
                    p.emails = listOf(newEmail("p$t.$i@example.com"))
                    book.addAllowingDuplicates(p)
                    book.segmentCount("email ends_with \"@example.com\"", null)
                }
            } catch (e: Throwable) {
                failures.add(e)
            }
        }
    }
    pool.shutdown()
    check(pool.awaitTermination(120, TimeUnit.SECONDS)) { "threads did not finish" }
    check(failures.isEmpty()) { "thread failures $failures" }
    check(book.count() == 200uL) { "count after threads ${book.count()}" }
    book.closeBook()
    book.closeBook()
    val closed = expect<KehuException.Closed>("closed book") { book.count() }
    check(closed.code == "closed") { closed.code }
}

fun encrypted(dir: File) {
    val path = File(dir, "sealed.kehu").path
    val key = Key.Passphrase("correct horse battery staple")
    var book = Book.open(path, OpenOptions(key = key))
    val c = book.add(wei()).customer
    book.closeBook()
    check(isEncrypted(path)) { "not encrypted" }
    check(!String(File(path).readBytes(), Charsets.ISO_8859_1).contains("Zhang")) { "plain text in the file" }
    expect<KehuException.Key>("wrong passphrase") { Book.open(path, OpenOptions(key = Key.Passphrase("wrong"))) }
    book = Book.open(path, OpenOptions(key = key))
    val policy = """
        [roles.sales]
        operations = ["read"]
        scope = "all"
        fields = { phones = "masked", birth_date = "hidden" }
    """.trimIndent()
    val sales = book.asPrincipal(Principal("ann", listOf("sales"), null), policy)
    val seen = sales.get(c.id)
    check(seen.phones[0].number == "138****5678" && seen.birthDate == null) { "masking $seen" }
    val filtered = expect<KehuException.Denied>("a condition on a masked field") { sales.segmentMembers("手机 starts_with \"+86\"", null) }
    check(filtered.path?.contains("filter on phones") == true) { "denial ${filtered.path}" }
    check(sales.segmentMembers("kind = person", null).all { it.birthDate == null }) { "members masked" }
    val denied = expect<KehuException.Denied>("export without the right") { sales.exportText(ExportOptions()) }
    check(denied.code == "denied") { denied.code }
    check(sales.principal()?.user == "ann" && book.principal() == null) { "the principal's book" }
    sales.check(Operation.READ)
    expect<KehuException.Denied>("a principal hands itself other roles") {
        sales.asPrincipal(Principal("ann", listOf("admin"), null), policy)
    }
    sales.closeBook()
    check(sales.isClosed() && !book.isClosed()) { "closing a principal's book leaves the owner's open" }
    check(book.forget(c.id).id == c.id) { "forget" }
    check(book.compact().entries > 0uL) { "compact after forget" }
    book.closeBook()
}

fun callbacks(dir: File) {
    val book = Book.open(File(dir, "callbacks.kehu").path, OpenOptions())
    val csv = File(dir, "in.csv")
    csv.writeText("name,email,city\n张伟,zhang.wei@example.com,上海\nAnna Schmidt,anna@example.de,Berlin\n")
    val seen = mutableListOf<Pair<ULong, ULong?>>()
    val report = book.importFile(csv.path, ImportOptions(), object : ProgressListener {
        override fun onProgress(stage: String, done: ULong, total: ULong?) { seen.add(done to total) }
    })
    check(report.imported == 2uL && report.rejected == 0uL) { "import $report" }
    check(seen.isNotEmpty() && seen.last().first == seen.last().second) { "progress $seen" }

    val events = mutableListOf<String>()
    book.saveSegment("shanghai", "city = \"上海\"", true)
    book.onSegmentChange(object : SegmentListener {
        override fun onChange(segment: String, customerId: String, entered: Boolean) {
            events.add("$segment $customerId $entered")
        }
    })
    val anna = book.findByEmail("anna@example.de")[0]
    anna.addresses = listOf(anna.addresses[0].copy(city = "上海"))
    book.update(anna)
    check(events == listOf("shanghai ${anna.id} true")) { "segment events $events" }
    book.closeBook()
}

/** Rules given on opening are saved in the book; a later open without rules applies them. */
fun savedRules(dir: File) {
    val path = File(dir, "rules.kehu").path
    val rules = "[[custom]]\nname = \"member_level\"\ntype = \"enum\"\nvalues = [\"gold\", \"silver\"]\n"
    Book.open(path, OpenOptions(rulesText = rules)).closeBook()
    val book = Book.open(path, OpenOptions())
    val gold = wei()
    gold.custom = mapOf("member_level" to CustomValue.Enum("gold"))
    check(book.validate(gold).violations.isEmpty()) { "the saved rules declare member_level" }
    val platinum = wei()
    platinum.custom = mapOf("member_level" to CustomValue.Enum("platinum"))
    val refused = try { book.add(platinum); null } catch (e: KehuException.Invalid) { e }
    check(refused?.violations?.any { it.path == "custom.member_level" } == true) { "the saved enum is checked" }
    book.closeBook()
}

/** A book on PostgreSQL (KEHU_PG_URL names the server; a database of its
 *  own is made with psql): two handles share it as two apps would. */
fun sharedBook() {
    val server = System.getenv("KEHU_PG_URL")
    if (server == null) {
        check(System.getenv("KEHU_REQUIRE_PG") != "1") { "KEHU_REQUIRE_PG=1 but KEHU_PG_URL is not set" }
        println("kotlin: no PostgreSQL server (KEHU_PG_URL), the shared-book leg is skipped")
        return
    }
    val db = "kehu_kotlin_${ProcessHandle.current().pid()}"
    val made = ProcessBuilder("psql", server, "-qc", "CREATE DATABASE $db").inheritIO().start().waitFor()
    check(made == 0) { "psql made the database" }
    val url = server.substringBeforeLast('/') + "/" + db
    val a = Book.open(url, OpenOptions(actor = "phone-a"))
    val b = Book.open(url, OpenOptions(actor = "phone-b"))
    val saved = a.add(wei()).customer
    check(b.findByEmail("wei.zhang@example.com").map { it.id } == listOf(saved.id)) { "the other handle finds it" }
    val first = b.get(saved.id)
    first.jobTitle = "采购经理"
    b.update(first)
    val stale = saved
    stale.jobTitle = "经理"
    expect<KehuException.Conflict>("the later writer of one version") { a.update(stale) }
    check(a.get(saved.id).jobTitle == "采购经理") { "the first writer's change stays" }
    val li = newPerson("Na", "Li")
    li.emails = listOf(newEmail("li.na@example.cn"))
    check(a.segmentCount("email ends_with \"example.com\"", null) == 1uL) { "a warm count" }
    b.add(li)
    check(a.count() == 2uL && a.segmentCount("email ends_with \"example.cn\"", null) == 1uL) {
        "a count sees the other handle's write"
    }
    val feed = b.changesSince(0uL, 100u)
    check(feed.map { it.kind } == listOf("created", "updated", "created")) { "the feed: ${feed.map { it.kind }}" }
    check(feed[1].fields == listOf("job_title") && feed[1].customerId == saved.id) { "an update's fields" }
    check(a.changesSince(feed[1].seq, 100u).map { it.seq } == listOf(feed[2].seq)) { "from a cursor" }
    check(a.waitForChanges(feed[2].seq, 100u, 50uL).isEmpty()) { "nothing new: empty at the timeout" }
    val waiter = Thread { b.add(newPerson("Fang", "Wang")) }
    waiter.start()
    val woke = a.waitForChanges(feed[2].seq, 100u, 60_000uL)
    waiter.join()
    check(woke.size == 1 && woke[0].kind == "created") { "woken by the other handle's commit" }
    a.closeBook()
    b.closeBook()
}

fun main() {
    val dir = Files.createTempDirectory("kehu-kotlin").toFile()
    try {
        scenario(dir)
        badInput(dir)
        encrypted(dir)
        callbacks(dir)
        savedRules(dir)
        readme(File(dir, "readme").apply { mkdirs() })
        sharedBook()
    } finally {
        dir.deleteRecursively()
    }
    println("kotlin scenario: $checks checks passed")
}
