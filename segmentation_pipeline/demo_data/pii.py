"""Fake but plausible personal data (names, e-mail, phone, address), vectorised.

E-mail addresses use the reserved `example.*` domains so no real mailbox is hit.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# country code, sampling weight, phone prefix, cities
COUNTRIES = (
    ("DE", 0.22, "+49", ("Berlin", "Hamburg", "Munich", "Cologne", "Leipzig")),
    ("GB", 0.15, "+44", ("London", "Manchester", "Bristol", "Leeds", "Glasgow")),
    ("FR", 0.14, "+33", ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes")),
    ("US", 0.12, "+1", ("Boston", "Chicago", "Denver", "Seattle", "Austin")),
    ("NL", 0.08, "+31", ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven")),
    ("ES", 0.08, "+34", ("Madrid", "Barcelona", "Valencia", "Seville")),
    ("IT", 0.08, "+39", ("Rome", "Milan", "Turin", "Bologna")),
    ("PL", 0.06, "+48", ("Warsaw", "Krakow", "Gdansk", "Wroclaw")),
    ("SE", 0.03, "+46", ("Stockholm", "Gothenburg", "Malmo")),
    ("AT", 0.02, "+43", ("Vienna", "Graz", "Linz")),
)

GENDERS = ("female", "male", "non_binary", "unknown")
GENDER_WEIGHTS = (0.48, 0.46, 0.02, 0.04)

FEMALE = (
    "Anna", "Emma", "Sofia", "Laura", "Julia", "Maria", "Lena", "Clara", "Olivia", "Chloe",
    "Alice", "Sarah", "Eva", "Mia", "Hannah", "Lucy", "Zoe", "Ines", "Nora", "Paula",
    "Elena", "Marta", "Agnes", "Ida", "Grace", "Amelia", "Camille", "Giulia", "Ella", "Leonie",
)
MALE = (
    "Lukas", "Max", "Jonas", "Paul", "Leon", "Felix", "Noah", "Oliver", "Jack", "Harry",
    "Louis", "Hugo", "Lucas", "Mateo", "Marco", "Luca", "Jan", "Piotr", "Erik", "Oscar",
    "David", "Daniel", "Thomas", "James", "Samuel", "Adam", "Tobias", "Elias", "Liam", "Ben",
)
LAST = (
    "Smith", "Mueller", "Schmidt", "Martin", "Bernard", "Rossi", "Garcia", "Jansen", "Kowalski",
    "Johansson", "Brown", "Wilson", "Taylor", "Fischer", "Weber", "Meyer", "Dubois", "Moreau",
    "Lopez", "Romano", "Ricci", "De Jong", "Nowak", "Lindberg", "Huber", "Wagner", "Becker",
    "Hoffmann", "Walker", "Evans", "Roberts", "Fernandez", "Bakker", "Visser", "Colombo",
    "Lefebvre", "Nielsen", "Berg", "Clarke", "Hughes",
)
STREETS = (
    "Oak", "Maple", "Station", "Church", "Mill", "Park", "High", "Bridge", "Garden", "Lake",
    "River", "Castle", "Market", "School", "Forest", "Meadow", "Elm", "Cedar", "Hill", "Spring",
)
STREET_TYPES = ("Street", "Road", "Lane", "Avenue", "Way", "Close")
DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com", "post.example.net")

COUNTRY_CODES = tuple(c[0] for c in COUNTRIES)
COUNTRY_WEIGHTS = np.array([c[1] for c in COUNTRIES]) / sum(c[1] for c in COUNTRIES)


def _take(values, idx: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(idx))


def _digits(rng: np.random.Generator, n: int, width: int) -> pa.Array:
    numbers = rng.integers(0, 10**width, n)
    return pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")


def fake_people(rng: np.random.Generator, user_numbers: np.ndarray, gender: np.ndarray) -> dict:
    """PII columns for one block of users. `gender` indexes GENDERS."""
    n = len(user_numbers)
    country = rng.choice(len(COUNTRIES), n, p=COUNTRY_WEIGHTS)

    # First names follow gender; non-binary/unknown draw from both lists.
    fem = np.where(gender == 0, True, np.where(gender == 1, False, rng.random(n) < 0.5))
    all_first = FEMALE + MALE
    first_idx = np.where(fem, rng.integers(0, len(FEMALE), n), len(FEMALE) + rng.integers(0, len(MALE), n))
    first = _take(all_first, first_idx)
    last = _take(LAST, rng.integers(0, len(LAST), n))
    full_name = pc.binary_join_element_wise(first, last, " ")

    local = pc.binary_join_element_wise(
        pc.utf8_lower(first), pc.replace_substring(pc.utf8_lower(last), " ", ""), "."
    )
    local = pc.binary_join_element_wise(local, pc.cast(pa.array(user_numbers), pa.string()), "")
    email = pc.binary_join_element_wise(local, _take(DOMAINS, rng.integers(0, len(DOMAINS), n)), "@")

    prefix = _take([c[2] for c in COUNTRIES], country)
    phone = pc.binary_join_element_wise(prefix, _digits(rng, n, 3), _digits(rng, n, 7), " ")

    # City: uniform within the country's city list (vectorised via offsets).
    sizes = np.array([len(c[3]) for c in COUNTRIES])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    city_idx = offsets[country] + (rng.random(n) * sizes[country]).astype(np.int64)
    city = _take([city for c in COUNTRIES for city in c[3]], city_idx)
    house = pc.cast(pa.array(rng.integers(1, 200, n)), pa.string())
    street = pc.binary_join_element_wise(
        house,
        _take(STREETS, rng.integers(0, len(STREETS), n)),
        _take(STREET_TYPES, rng.integers(0, len(STREET_TYPES), n)),
        " ",
    )
    postcode_city = pc.binary_join_element_wise(_digits(rng, n, 5), city, " ")
    address = pc.binary_join_element_wise(street, postcode_city, ", ")

    return {
        "country": _take(COUNTRY_CODES, country),
        "email": email,
        "phone": phone,
        "full_name": full_name,
        "address": address,
    }
