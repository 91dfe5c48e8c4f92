// Adds the customers of a TSV (benches/kotlin/to_tsv.py) to a fresh book file
// through the Kotlin bindings; prints one JSON line of rates.
//   java -cp bench.jar:jna.jar -Djna.library.path=DIR AddBenchKt FILE.tsv DIR
// Untimed: reading the file, building the Customer objects, setting aside the
// rows the standard rules reject (as the Rust side does), warm-up batches of
// 10,000 into books in memory on each path. Timed: one call each, into a fresh file.

import kehu.*
import java.io.File
import java.time.LocalDate

fun customer(line: String): Customer {
    val f = line.split('\t')
    val c = newPerson(f[0], f[1])
    if (f[2].isNotEmpty()) c.emails = listOf(Email(address = f[2], primary = true))
    if (f[3].isNotEmpty()) c.phones = listOf(Phone(number = f[3], primary = true))
    // ISO dates only, as the Rust side (`str::parse::<NaiveDate>`); others are left out on both.
    c.birthDate = try { LocalDate.parse(f[4]) } catch (e: java.time.format.DateTimeParseException) { null }
    if (f[5].isNotEmpty() || f[6].isNotEmpty() || f[7].isNotEmpty()) {
        c.addresses = listOf(Address(primary = true, street = f[5].ifEmpty { null },
            city = f[6].ifEmpty { null }, postcode = f[7].ifEmpty { null }))
    }
    if (f[8].isNotEmpty()) c.company = f[8]
    return c
}

fun rate(n: Int, seconds: Double) = Math.round(n / seconds)

fun main(args: Array<String>) {
    val dir = File(args[1])
    val all = File(args[0]).readLines().filter { it.isNotEmpty() }.map(::customer)
    val probe = Book.inMemory(OpenOptions())
    val rows = all.filter { probe.validate(it).ok }
    probe.closeBook()
    // Warm the JIT on both paths: 10,000 rows into books in memory.
    Book.inMemory(OpenOptions()).let { it.addManyIds(rows.take(10_000)); it.closeBook() }
    Book.inMemory(OpenOptions()).let { it.addMany(rows.take(10_000)); it.closeBook() }

    fun timed(name: String, call: (Book) -> Int): Double {
        val book = Book.open(File(dir, "kt-$name.kehu").path, OpenOptions(cacheMb = 256u))
        val t = System.nanoTime()
        val n = call(book)
        val s = (System.nanoTime() - t) / 1e9
        check(n == rows.size && book.count() == rows.size.toULong()) { "$name added $n" }
        book.closeBook()
        return s
    }
    val ids = timed("ids") { it.addManyIds(rows).size }
    val saved = timed("saved") { it.addMany(rows).size }
    println("{\"side\": \"kotlin\", \"records\": ${rows.size}, \"add_many_ids\": ${rate(rows.size, ids)}, \"add_many\": ${rate(rows.size, saved)}}")
}
