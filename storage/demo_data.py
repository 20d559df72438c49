"""The demo world's fixed contents: regions, clinics, specialties, doctors, patients, staff.

Plain data only (storage/demo.py turns it into rows), so docs/demo.md and the
tests can read the same lists. Names, addresses and phone numbers look real
but describe no real person or clinic.
"""

from __future__ import annotations

from datetime import date
from typing import Any

REGIONS: list[dict[str, str]] = [
    {"id": "msk", "name_ru": "Москва", "name_en": "Moscow", "tz": "Europe/Moscow"},
    {"id": "nsk", "name_ru": "Новосибирск", "name_en": "Novosibirsk", "tz": "Asia/Novosibirsk"},
]

_WEEK = "Пн–Пт 08:00–20:00, Сб 09:00–15:00"
_WEEK_NSK = "Пн–Пт 08:00–20:00, Сб 09:00–14:00"

# id, region, name, address, district, kind, phone, hours
CLINICS: list[tuple[int, str, str, str, str, str, str, str]] = [
    (
        1,
        "msk",
        "ГБУЗ «Городская поликлиника № 12 ДЗМ»",
        "г. Москва, ул. Бориса Галушкина, д. 21",
        "Алексеевский",
        "adult",
        "+7 (495) 687-45-12",
        _WEEK,
    ),
    (
        2,
        "msk",
        "ГБУЗ «Городская поликлиника № 45 ДЗМ»",
        "г. Москва, Щёлковское шоссе, д. 52",
        "Гольяново",
        "adult",
        "+7 (499) 462-18-30",
        _WEEK,
    ),
    (
        3,
        "msk",
        "ГБУЗ «Городская поликлиника № 180 ДЗМ»",
        "г. Москва, Ленинский проспект, д. 89",
        "Ломоносовский",
        "adult",
        "+7 (495) 938-04-77",
        _WEEK,
    ),
    (
        4,
        "msk",
        "ГБУЗ «Городская поликлиника № 3 ДЗМ»",
        "г. Москва, ул. Маломосковская, д. 14",
        "Алексеевский",
        "adult",
        "+7 (495) 683-22-09",
        _WEEK,
    ),
    (
        5,
        "msk",
        "ГБУЗ «Консультативно-диагностический центр № 6 ДЗМ»",
        "г. Москва, ул. Поликарпова, д. 12",
        "Хорошёвский",
        "adult",
        "+7 (495) 946-71-50",
        "Пн–Пт 08:00–20:00",
    ),
    (
        6,
        "msk",
        "ГБУЗ «Детская городская поликлиника № 110 ДЗМ»",
        "г. Москва, ул. Академика Бочвара, д. 5",
        "Щукино",
        "child",
        "+7 (499) 196-33-41",
        _WEEK,
    ),
    (
        7,
        "nsk",
        "ГБУЗ НСО «Городская клиническая поликлиника № 1»",
        "г. Новосибирск, ул. Серебренниковская, д. 42",
        "Центральный",
        "adult",
        "+7 (383) 223-58-14",
        _WEEK_NSK,
    ),
    (
        8,
        "nsk",
        "ГБУЗ НСО «Городская поликлиника № 24»",
        "г. Новосибирск, ул. Ватутина, д. 23",
        "Ленинский",
        "adult",
        "+7 (383) 346-10-92",
        _WEEK_NSK,
    ),
    (
        9,
        "nsk",
        "ГБУЗ НСО «Детская городская клиническая поликлиника № 6»",
        "г. Новосибирск, ул. Кирова, д. 108",
        "Октябрьский",
        "child",
        "+7 (383) 266-41-07",
        _WEEK_NSK,
    ),
]

# code, ru, en, referral_required, min_age, max_age, sex, slot minutes, kinds cycle, prep ru, prep en
SPECIALTIES: list[dict[str, Any]] = [
    {
        "id": 1,
        "code": "therapist",
        "name_ru": "Терапевт",
        "name_en": "General practitioner",
        "referral_required": False,
        "min_age": 18,
        "max_age": None,
        "sex": None,
        "minutes": 12,
        "kinds": ("consultation",),
        "prep_ru": "Возьмите паспорт и полис ОМС.",
        "prep_en": "Bring your passport and OMS policy.",
    },
    {
        "id": 2,
        "code": "pediatrician",
        "name_ru": "Педиатр",
        "name_en": "Paediatrician",
        "referral_required": False,
        "min_age": None,
        "max_age": 17,
        "sex": None,
        "minutes": 20,
        "kinds": ("consultation", "consultation", "examination"),
        "prep_ru": "Возьмите свидетельство о рождении или паспорт ребёнка и его полис ОМС.",
        "prep_en": "Bring the child's birth certificate or passport and OMS policy.",
    },
    {
        "id": 3,
        "code": "surgeon",
        "name_ru": "Хирург",
        "name_en": "Surgeon",
        "referral_required": False,
        "min_age": 18,
        "max_age": None,
        "sex": None,
        "minutes": 15,
        "kinds": ("consultation", "consultation", "consultation", "procedure"),
        "prep_ru": "",
        "prep_en": "",
    },
    {
        "id": 4,
        "code": "ophthalmologist",
        "name_ru": "Офтальмолог",
        "name_en": "Ophthalmologist",
        "referral_required": False,
        "min_age": None,
        "max_age": None,
        "sex": None,
        "minutes": 20,
        "kinds": ("consultation", "consultation", "examination"),
        "prep_ru": "Возьмите очки или контактные линзы, которыми пользуетесь. После расширения "
        "зрачка 2–3 часа нельзя садиться за руль.",
        "prep_en": "Bring the glasses or contact lenses you wear. After pupil dilation do not "
        "drive for 2–3 hours.",
    },
    {
        "id": 5,
        "code": "otolaryngologist",
        "name_ru": "Оториноларинголог",
        "name_en": "Otolaryngologist (ENT)",
        "referral_required": False,
        "min_age": None,
        "max_age": None,
        "sex": None,
        "minutes": 15,
        "kinds": ("consultation",),
        "prep_ru": "",
        "prep_en": "",
    },
    {
        "id": 6,
        "code": "gynecologist",
        "name_ru": "Акушер-гинеколог",
        "name_en": "Obstetrician-gynaecologist",
        "referral_required": False,
        "min_age": 18,
        "max_age": None,
        "sex": "F",
        "minutes": 20,
        "kinds": ("consultation", "consultation", "examination"),
        "prep_ru": "Возьмите результаты предыдущих анализов и УЗИ, если они есть.",
        "prep_en": "Bring earlier test and ultrasound results, if you have them.",
    },
    {
        "id": 7,
        "code": "urologist",
        "name_ru": "Уролог",
        "name_en": "Urologist",
        "referral_required": False,
        "min_age": 18,
        "max_age": None,
        "sex": "M",
        "minutes": 20,
        "kinds": ("consultation", "consultation", "examination"),
        "prep_ru": "Возьмите результаты анализов мочи и УЗИ, если они есть.",
        "prep_en": "Bring urine test and ultrasound results, if you have them.",
    },
    {
        "id": 8,
        "code": "dentist",
        "name_ru": "Стоматолог",
        "name_en": "Dentist",
        "referral_required": False,
        "min_age": 18,
        "max_age": None,
        "sex": None,
        "minutes": 30,
        "kinds": ("consultation", "procedure"),
        "prep_ru": "Почистите зубы перед приёмом.",
        "prep_en": "Brush your teeth before the visit.",
    },
    {
        "id": 9,
        "code": "cardiologist",
        "name_ru": "Кардиолог",
        "name_en": "Cardiologist",
        "referral_required": True,
        "min_age": 18,
        "max_age": None,
        "sex": None,
        "minutes": 30,
        "kinds": ("consultation", "consultation", "examination"),
        "prep_ru": "Возьмите направление, ЭКГ и результаты анализов. За час до приёма не курите и "
        "не пейте кофе.",
        "prep_en": "Bring the referral, your ECG and test results. Do not smoke or drink coffee "
        "for an hour before the visit.",
    },
    {
        "id": 10,
        "code": "endocrinologist",
        "name_ru": "Эндокринолог",
        "name_en": "Endocrinologist",
        "referral_required": True,
        "min_age": 18,
        "max_age": None,
        "sex": None,
        "minutes": 20,
        "kinds": ("consultation",),
        "prep_ru": "Возьмите направление и результаты анализа крови на сахар и гормоны.",
        "prep_en": "Bring the referral and your blood sugar and hormone test results.",
    },
    {
        "id": 11,
        "code": "neurologist",
        "name_ru": "Невролог",
        "name_en": "Neurologist",
        "referral_required": True,
        "min_age": 18,
        "max_age": None,
        "sex": None,
        "minutes": 20,
        "kinds": ("consultation", "consultation", "examination"),
        "prep_ru": "Возьмите направление и снимки МРТ/КТ, если они есть.",
        "prep_en": "Bring the referral and MRI/CT images, if you have them.",
    },
    {
        "id": 12,
        "code": "gastroenterologist",
        "name_ru": "Гастроэнтеролог",
        "name_en": "Gastroenterologist",
        "referral_required": True,
        "min_age": 18,
        "max_age": None,
        "sex": None,
        "minutes": 20,
        "kinds": ("consultation", "examination"),
        "prep_ru": "Приходите натощак: не ешьте 8 часов до приёма. Возьмите направление.",
        "prep_en": "Come on an empty stomach: no food for 8 hours before. Bring the referral.",
    },
]

QUALIFICATIONS = [
    "врач высшей категории",
    "врач высшей категории",
    "врач первой категории",
    "врач первой категории",
    "врач второй категории",
    "кандидат медицинских наук, врач высшей категории",
    "доктор медицинских наук, профессор",
    "врач без категории",
]

# surname, name, patronymic, specialty code, clinic ids (a doctor with two clinics works
# there on alternate weekdays, as part-timers do)
DOCTORS: list[tuple[str, str, str, str, tuple[int, ...]]] = [
    # Moscow, open specialties
    ("Соколова", "Елена", "Викторовна", "therapist", (1,)),
    ("Морозов", "Андрей", "Павлович", "therapist", (1,)),
    ("Волкова", "Ольга", "Николаевна", "therapist", (2,)),
    ("Лебедев", "Сергей", "Игоревич", "therapist", (2,)),
    ("Козлова", "Татьяна", "Александровна", "therapist", (3,)),
    ("Новиков", "Дмитрий", "Сергеевич", "therapist", (4,)),
    ("Павлов", "Михаил", "Юрьевич", "surgeon", (1, 2)),
    ("Семёнов", "Игорь", "Валентинович", "surgeon", (3, 4)),
    ("Егорова", "Наталья", "Петровна", "ophthalmologist", (1, 2)),
    ("Фёдоров", "Алексей", "Геннадьевич", "ophthalmologist", (3, 4)),
    ("Григорьева", "Ирина", "Владимировна", "otolaryngologist", (1, 3)),
    ("Степанов", "Константин", "Олегович", "otolaryngologist", (2, 4)),
    ("Никитина", "Светлана", "Анатольевна", "gynecologist", (1, 2)),
    ("Орлова", "Марина", "Евгеньевна", "gynecologist", (3, 4)),
    ("Захаров", "Виктор", "Степанович", "urologist", (1, 3)),
    ("Макаров", "Роман", "Александрович", "urologist", (2, 4)),
    ("Борисова", "Юлия", "Дмитриевна", "dentist", (1, 2)),
    ("Тихонов", "Павел", "Андреевич", "dentist", (3, 4)),
    # Moscow, children's clinic
    ("Кудрявцева", "Анна", "Михайловна", "pediatrician", (6,)),
    ("Белова", "Людмила", "Ивановна", "pediatrician", (6,)),
    ("Алексеев", "Николай", "Борисович", "pediatrician", (6,)),
    ("Комарова", "Вера", "Сергеевна", "otolaryngologist", (6,)),
    ("Романова", "Екатерина", "Юрьевна", "ophthalmologist", (6,)),
    # Moscow, by referral
    ("Воробьёв", "Олег", "Константинович", "cardiologist", (5, 1)),
    ("Карпова", "Галина", "Васильевна", "cardiologist", (5,)),
    ("Жуков", "Артём", "Викторович", "endocrinologist", (5, 2)),
    ("Виноградова", "Оксана", "Игоревна", "endocrinologist", (5,)),
    ("Ковалёв", "Станислав", "Петрович", "neurologist", (5, 3)),
    ("Полякова", "Лариса", "Геннадьевна", "neurologist", (5,)),
    ("Киселёв", "Григорий", "Львович", "gastroenterologist", (5, 4)),
    ("Медведева", "Алла", "Романовна", "gastroenterologist", (5,)),
    # Novosibirsk
    ("Шевченко", "Валерия", "Олеговна", "therapist", (7,)),
    ("Данилов", "Евгений", "Михайлович", "therapist", (8,)),
    ("Гусев", "Владимир", "Аркадьевич", "surgeon", (7, 8)),
    ("Титова", "Ксения", "Андреевна", "ophthalmologist", (7, 8)),
    ("Баранова", "Дарья", "Витальевна", "gynecologist", (7,)),
    ("Ершов", "Максим", "Леонидович", "dentist", (8,)),
    ("Сорокина", "Полина", "Ильинична", "pediatrician", (9,)),
    ("Чернов", "Антон", "Вадимович", "cardiologist", (7,)),
    ("Фролова", "Инна", "Эдуардовна", "neurologist", (8,)),
]

# The attachment register of the demo. SNILS and policies are valid (checksums hold).
DEMO_PATIENTS: list[dict[str, Any]] = [
    {
        "surname": "Иванов",
        "name": "Иван",
        "patronymic": "Иванович",
        "birth_date": date(1985, 4, 12),
        "sex": "M",
        "snils": "112-233-445 95",
        "policy": "8451999122899990",
        "clinic_id": 1,
    },
    {
        "surname": "Иванова",
        "name": "Мария",
        "patronymic": "Ивановна",
        "birth_date": date(2017, 6, 15),
        "sex": "F",
        "snils": "",
        "policy": "",
        "clinic_id": 6,
    },
    {
        "surname": "Смирнова",
        "name": "Анна",
        "patronymic": "Сергеевна",
        "birth_date": date(1990, 9, 3),
        "sex": "F",
        "snils": "",
        "policy": "",
        "clinic_id": 2,
    },
    {
        "surname": "Кузнецов",
        "name": "Пётр",
        "patronymic": "Андреевич",
        "birth_date": date(1956, 1, 28),
        "sex": "M",
        "snils": "",
        "policy": "",
        "clinic_id": 3,
    },
    {
        "surname": "Петров",
        "name": "Алексей",
        "patronymic": "Николаевич",
        "birth_date": date(1979, 11, 2),
        "sex": "M",
        "snils": "",
        "policy": "",
        "clinic_id": 7,
    },
    {
        "surname": "Петрова",
        "name": "Дарья",
        "patronymic": "Алексеевна",
        "birth_date": date(2019, 3, 21),
        "sex": "F",
        "snils": "",
        "policy": "",
        "clinic_id": 9,
    },
]

DEMO_STAFF: dict[int, dict[str, Any]] = {
    9001: {"clinics": [1], "role": "registrar"},
    9002: {"clinics": [2], "role": "registrar"},
    9003: {"clinics": [3], "role": "registrar"},
    9004: {"clinics": [4], "role": "registrar"},
    9005: {"clinics": [5], "role": "registrar"},
    9006: {"clinics": [6], "role": "registrar"},
    9007: {"clinics": [7], "role": "registrar"},
    9008: {"clinics": [8, 9], "role": "registrar"},
    9009: {"clinics": [c[0] for c in CLINICS], "role": "admin"},
}


def snils_check(digits9: str) -> str:
    """The two control digits of a SNILS (Pension Fund algorithm)."""
    total = sum(int(d) * w for d, w in zip(digits9, range(9, 0, -1), strict=True))
    if total < 100:
        return f"{total:02d}"
    if total in (100, 101):
        return "00"
    rest = total % 101
    return "00" if rest == 100 else f"{rest:02d}"


def format_snils(digits9: str) -> str:
    d = digits9
    return f"{d[0:3]}-{d[3:6]}-{d[6:9]} {snils_check(d)}"


def luhn_digit(digits15: str) -> str:
    """The check digit a 16-digit single-format OMS policy ends with (Luhn)."""
    total = 0
    for i, ch in enumerate(reversed(digits15)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


# Fill in the numbers of the other demo patients from fixed digits, so they are stable.
_SNILS_BASES = ["", "157384920", "203948576", "318273645", "472615839", "561728394"]
_POLICY_BASES = [
    "",
    "770000123456789",
    "770000234567891",
    "770000345678912",
    "540000456789123",
    "540000567891234",
]
for _p, _s, _o in zip(DEMO_PATIENTS, _SNILS_BASES, _POLICY_BASES, strict=True):
    if not _p["snils"]:
        _p["snils"] = format_snils(_s)
        _p["policy"] = _o + luhn_digit(_o)
