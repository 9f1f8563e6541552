"""Data tables for the demo shop: people's names, places, phone plans, products and notes.

Everything here is made up for a believable small shop in Houston that sells tea
and coffee. Phone numbers are built from the plans below: North American numbers
use the 555 exchange, British landlines Ofcom's ranges for drama, and other
countries ranges that the phone metadata accepts as valid. Email domains are the
reserved example domains only.
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

Name = tuple[str, str]  # (as the person writes it, plain Latin form for emails)
Surname = tuple[Name, Name]  # (male form, female form)
PhonePlan = tuple[str, int]  # (national number head, national number length)

SHOP_NAME = "Bayou Leaf Tea & Coffee"
SHOP_CURRENCY = "USD"

_PLAIN_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "æ": "ae",
        "Æ": "Ae",
        "œ": "oe",
        "Œ": "Oe",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "ı": "i",
    }
)


def plain(text: str) -> str:
    """Return `text` without accents, keeping its case ("Łukasz" → "Lukasz")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_PLAIN_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _latin(words: str) -> tuple[Name, ...]:
    """Names in a Latin script, separated by spaces ("_" stands for a space)."""
    return tuple((w.replace("_", " "), plain(w.replace("_", " "))) for w in words.split())


def _script(pairs: str) -> tuple[Name, ...]:
    """Names in another script, as "native:Plain" pairs separated by spaces."""
    result = []
    for pair in pairs.split():
        native, latin = pair.split(":")
        result.append((native.replace("_", " "), latin.replace("_", " ")))
    return tuple(result)


def _surnames(words: str, *, script: bool = False) -> tuple[Surname, ...]:
    """Surnames; "male|female" where the form changes with gender."""
    parse = _script if script else _latin
    result = []
    for word in words.split():
        forms = word.split("|")
        male = parse(forms[0])[0]
        female = parse(forms[-1])[0]
        result.append((male, female))
    return tuple(result)


class NameSet(NamedTuple):
    """Given names and surnames of one group of people."""

    male: tuple[Name, ...]
    female: tuple[Name, ...]
    last: tuple[Surname, ...]
    plain_share: float  # chance that a person types the plain Latin form


class City(NamedTuple):
    """A city customers live in, with its postcode patterns and phone plans."""

    name: str
    state: str
    postcodes: tuple[str, ...]  # '#' is a digit, '@' an upper-case letter
    phones: tuple[PhonePlan, ...]
    weight: float
    streets: tuple[str, ...] = ()  # empty: the country's streets
    near_shop: bool = False  # close enough to pick orders up in Houston


class Country(NamedTuple):
    """Everything needed to make up a customer from one country."""

    code: str
    weight: float
    peoples: tuple[tuple[float, NameSet], ...]
    cities: tuple[City, ...]
    streets: tuple[str, ...]
    street_format: str  # fields: n (house number), a and b (digits 1-9), s (street)
    address_2: tuple[str, ...]  # fields: n (1-60), a and b (1-9), L (a letter), s (street)
    address_2_share: float
    mobiles: tuple[PhonePlan, ...]
    mobile_share: float
    companies: tuple[str, ...]
    # More plans typed like the first city's, for when the usual ones run out in
    # a very large shop (people keep their number when they move).
    spare_phones: tuple[PhonePlan, ...] = ()


# --- People ---------------------------------------------------------------------

_US_ANGLO = NameSet(
    male=_latin(
        "James Michael Robert David William Christopher Matthew Joshua Andrew Ryan "
        "Brandon Tyler Kevin Justin Daniel John Thomas Charles Benjamin Samuel Ethan "
        "Nathan Caleb Logan Austin Dylan Garrett Wyatt Colton Travis Bradley Dustin "
        "André René Jamal DeShawn Malik Darnell Terrence Marcus Chinedu Emeka"
    ),
    female=_latin(
        "Mary Jennifer Linda Elizabeth Sarah Jessica Ashley Emily Megan Lauren Rachel "
        "Amanda Hannah Olivia Madison Abigail Emma Ava Grace Brittany Kayla Courtney "
        "Zoë Chloé Renée Noëlle Beyoncé Keisha Tamika Imani Aaliyah Ngozi Chiamaka "
        "Mary-Kate Anne-Marie"
    ),
    last=_surnames(
        "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas "
        "Moore Jackson Martin Thompson White Harris Clark Lewis Robinson Walker Young "
        "Allen King Wright Scott Hill Green Adams Baker Nelson Carter Mitchell Roberts "
        "Turner Phillips Campbell Parker Evans Edwards Collins Stewart Morris Murphy "
        "Cook Rogers Reed Bailey Cooper Richardson Cox Howard Ward Peterson Gray "
        "O'Brien O'Connor McDonald MacKenzie Van_Buren St._Clair Okafor Adeyemi "
        "Nwosu Washington Jefferson Dubois Schröder Kowalski"
    ),
    plain_share=0.05,
)

_US_HISPANIC = NameSet(
    male=_latin(
        "José Juan Carlos Luis Jesús Alejandro Miguel Jorge Diego Andrés Héctor "
        "Ramón Raúl Óscar Sergio Fernando Javier Eduardo Mateo Santiago"
    ),
    female=_latin(
        "María Ana Sofía Lucía Guadalupe Valeria Camila Ximena Daniela Gabriela "
        "Mónica Verónica Rocío Marisol Yesenia Inés Beatriz Leticia Araceli Itzel"
    ),
    last=_surnames(
        "García Rodríguez Martínez Hernández López González Pérez Sánchez Ramírez "
        "Torres Flores Rivera Gómez Díaz Reyes Cruz Morales Ortiz Gutiérrez Chávez "
        "Ramos Ruiz Álvarez Mendoza Castillo Jiménez Vásquez Muñoz Garza Treviño "
        "Peña Ibarra De_la_Cruz Villarreal Saldaña"
    ),
    plain_share=0.35,
)

_US_VIETNAMESE = NameSet(
    male=_latin("Minh Tuấn Hùng Dũng Quang Huy Long Phúc Khoa Bảo Thành Nam"),
    female=_latin("Linh Thảo Hương Trang Ngọc Lan Mai Hạnh Phương Thu Vy Yến"),
    last=_surnames("Nguyễn Trần Lê Phạm Huỳnh Hoàng Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý"),
    plain_share=0.55,
)

_US_ASIAN = NameSet(
    male=_latin("Wei Jun Kevin Daniel Raj Rahul Arjun Vikram Hyun Min-jun Hiro Kenji"),
    female=_latin("Mei Jing Priya Ananya Deepa Soo-ah Ji-woo Yuki Emi Grace Angela"),
    last=_surnames(
        "Chen Wang Li Zhang Liu Huang Wu Lin Patel Shah Desai Reddy Iyer Kim Park "
        "Choi Tanaka Sato Nakamura"
    ),
    plain_share=0.0,
)

_US_MIDDLE_EAST = NameSet(
    male=_latin("Omar Ali Hassan Karim Tariq Samir Yusuf Elias"),
    female=_latin("Fatima Aisha Layla Nour Yasmin Rania Leila Hana"),
    last=_surnames("Haddad Khan Khoury Nasser Aziz Rahman Saleh Mansour Hussain"),
    plain_share=0.0,
)

_CA_ENGLISH = NameSet(
    male=_latin("Liam Noah William Benjamin Lucas Owen Ethan Jacob Connor Gurpreet"),
    female=_latin("Olivia Emma Charlotte Amelia Ava Sophie Chloe Harpreet Maeve"),
    last=_surnames(
        "Smith Brown Tremblay Martin Roy Wilson MacDonald Campbell Anderson Taylor "
        "Singh Leblanc Fraser Murray Chan"
    ),
    plain_share=0.0,
)

_CA_FRENCH = NameSet(
    male=_latin("François Étienne Stéphane Jérôme Mathieu Sébastien Éric Gaétan Félix"),
    female=_latin("Émilie Geneviève Mélanie Noémie Josée Frédérique Hélène Amélie Béatrice"),
    last=_surnames(
        "Tremblay Gagnon Roy Côté Bouchard Gauthier Morin Lavoie Fortin Gagné Ouellet "
        "Pelletier Bélanger Lévesque Bergeron Leblanc Paré Dionne"
    ),
    plain_share=0.12,
)

_GB = NameSet(
    male=_latin("Oliver George Harry Jack Charlie Thomas Alfie Rhys Callum Euan Ciarán Seán"),
    female=_latin("Amelia Isla Ava Mia Charlotte Freya Poppy Siobhan Niamh Eilidh Aoife Zoë"),
    last=_surnames(
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Evans Thomas Roberts "
        "Walker Wright Hughes Edwards Green Hall Wood Harris Lewis Patel Khan Ahmed "
        "O'Connor MacLeod Campbell Murray ffrench Llewellyn"
    ),
    plain_share=0.03,
)

_DE = NameSet(
    male=_latin(
        "Lukas Leon Jonas Felix Maximilian Paul Jürgen Jörg Björn Günter Uwe Stefan "
        "Matthias Sören Karl-Heinz"
    ),
    female=_latin(
        "Anna Lea Sophie Marie Hannah Lena Ursula Käthe Bärbel Jana Katrin Jülide "
        "Anne-Kathrin Heike Sabine"
    ),
    last=_surnames(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
        "Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann "
        "Braun Krüger Hofmann Hartmann Weiß Groß Lehmann Köhler Yılmaz Öztürk"
    ),
    plain_share=0.08,
)

_FR = NameSet(
    male=_latin(
        "Lucas Hugo Théo Raphaël Loïc Jérémy Benoît François Jean-Luc Noël Mathéo "
        "Gaël Jérôme Thibaut Cédric"
    ),
    female=_latin(
        "Léa Chloé Manon Camille Inès Zoé Louise Hélène Cécile Amélie Gaëlle Anaïs "
        "Maëlle Océane Margaux"
    ),
    last=_surnames(
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
        "Laurent Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Girard "
        "Bonnet Dupont Lambert Fontaine Rousseau Mercier Guérin Chevalier Lemaître "
        "Faure Bérenger"
    ),
    plain_share=0.08,
)

_ES = NameSet(
    male=_latin("José Hugo Pablo Álvaro Adrián Javier Íñigo Iñaki Sergio Raúl Ángel Jesús Jordi"),
    female=_latin("María Lucía Sofía Martina Begoña Nuria Ainhoa Rocío Marta Carmen Dolores Núria"),
    last=_surnames(
        "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín "
        "Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez "
        "Navarro Torres Domínguez Vázquez Ramos Ibáñez Peña Núñez Castaño Puig"
    ),
    plain_share=0.08,
)

_PL = NameSet(
    male=_latin(
        "Łukasz Paweł Michał Piotr Krzysztof Tomasz Wojciech Jakub Mateusz Jędrzej "
        "Zbigniew Grzegorz"
    ),
    female=_latin(
        "Agnieszka Małgorzata Katarzyna Joanna Zofia Alicja Magdalena Żaneta Bożena "
        "Grażyna Jadwiga Ewa"
    ),
    last=_surnames(
        "Nowak Kowalski|Kowalska Wiśniewski|Wiśniewska Wójcik Kowalczyk "
        "Kamiński|Kamińska Lewandowski|Lewandowska Zieliński|Zielińska "
        "Szymański|Szymańska Woźniak Dąbrowski|Dąbrowska Kozłowski|Kozłowska "
        "Jankowski|Jankowska Mazur Kwiatkowski|Kwiatkowska Krawczyk "
        "Grabowski|Grabowska Pawłowski|Pawłowska Król Wieczorek Jabłoński|Jabłońska Wróbel"
    ),
    plain_share=0.1,
)

_SE = NameSet(
    male=_latin("Erik Lars Anders Johan Per Björn Sören Måns Åke Oskar Axel Linus"),
    female=_latin("Anna Eva Maria Karin Sara Åsa Linnéa Märta Ingrid Elsa Saga Malin"),
    last=_surnames(
        "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson "
        "Gustafsson Lindström Bergström Åberg Öberg Sjöberg Ståhl Lindqvist Ekström"
    ),
    plain_share=0.05,
)

_DK = NameSet(
    male=_latin("Søren Mads Rasmus Jørgen Anders Niels Frederik Mikkel"),
    female=_latin("Mette Sofie Ida Kirsten Anne Maja Signe Birgitte"),
    last=_surnames(
        "Nielsen Jensen Hansen Pedersen Andersen Christensen Larsen Sørensen "
        "Rasmussen Jørgensen Møller Kjærgaard Østergaard Bæk"
    ),
    plain_share=0.05,
)

_GR = NameSet(
    male=_script(
        "Γιώργος:Giorgos Δημήτρης:Dimitris Νίκος:Nikos Κώστας:Kostas Γιάννης:Giannis "
        "Παναγιώτης:Panagiotis Χρήστος:Christos Αλέξανδρος:Alexandros"
    ),
    female=_script(
        "Ελένη:Eleni Μαρία:Maria Αικατερίνη:Aikaterini Σοφία:Sofia Γεωργία:Georgia "
        "Δέσποινα:Despoina Αναστασία:Anastasia Χριστίνα:Christina Ιωάννα:Ioanna"
    ),
    last=_surnames(
        "Παπαδόπουλος:Papadopoulos|Παπαδοπούλου:Papadopoulou "
        "Παπαδάκης:Papadakis|Παπαδάκη:Papadaki Γεωργίου:Georgiou "
        "Οικονόμου:Oikonomou Νικολάου:Nikolaou Βασιλείου:Vasileiou "
        "Καραγιάννης:Karagiannis|Καραγιάννη:Karagianni "
        "Μαυρίδης:Mavridis|Μαυρίδου:Mavridou Αλεξίου:Alexiou Ιωάννου:Ioannou "
        "Κωνσταντινίδης:Konstantinidis|Κωνσταντινίδου:Konstantinidou",
        script=True,
    ),
    plain_share=0.3,
)

_RU = NameSet(
    male=_script(
        "Александр:Aleksandr Дмитрий:Dmitry Сергей:Sergey Андрей:Andrey Алексей:Alexey "
        "Иван:Ivan Михаил:Mikhail Никита:Nikita Артём:Artyom Фёдор:Fyodor"
    ),
    female=_script(
        "Анна:Anna Мария:Maria Елена:Elena Ольга:Olga Наталья:Natalya Татьяна:Tatiana "
        "Ирина:Irina Екатерина:Ekaterina Алёна:Alyona Юлия:Yulia Ксения:Ksenia"
    ),
    last=_surnames(
        "Иванов:Ivanov|Иванова:Ivanova Смирнов:Smirnov|Смирнова:Smirnova "
        "Кузнецов:Kuznetsov|Кузнецова:Kuznetsova Попов:Popov|Попова:Popova "
        "Васильев:Vasilyev|Васильева:Vasilyeva Соколов:Sokolov|Соколова:Sokolova "
        "Новиков:Novikov|Новикова:Novikova Фёдоров:Fyodorov|Фёдорова:Fyodorova "
        "Морозов:Morozov|Морозова:Morozova Волков:Volkov|Волкова:Volkova "
        "Лебедев:Lebedev|Лебедева:Lebedeva Ёлкин:Yolkin|Ёлкина:Yolkina "
        "Королёв:Korolyov|Королёва:Korolyova Семёнов:Semyonov|Семёнова:Semyonova",
        script=True,
    ),
    plain_share=0.3,
)

_UA = NameSet(
    male=_script(
        "Олександр:Oleksandr Андрій:Andriy Дмитро:Dmytro Тарас:Taras Богдан:Bohdan "
        "Юрій:Yuriy Євген:Yevhen Олег:Oleh Сергій:Serhiy"
    ),
    female=_script(
        "Олена:Olena Оксана:Oksana Наталія:Nataliia Ірина:Iryna Юлія:Yuliia "
        "Софія:Sofiia Ганна:Hanna Марія:Mariia Катерина:Kateryna"
    ),
    last=_surnames(
        "Шевченко:Shevchenko Коваленко:Kovalenko Бондаренко:Bondarenko "
        "Ткаченко:Tkachenko Кравченко:Kravchenko Мельник:Melnyk Бойко:Boiko "
        "Коваль:Koval Олійник:Oliinyk Лисенко:Lysenko Ковальчук:Kovalchuk "
        "Савчук:Savchuk Руденко:Rudenko Петренко:Petrenko Їжак:Yizhak",
        script=True,
    ),
    plain_share=0.3,
)

_JP = NameSet(
    male=_script(
        "太郎:Taro 健太:Kenta 翔太:Shota 大輔:Daisuke 拓也:Takuya 健一:Kenichi 蓮:Ren "
        "悠真:Yuma 翔:Sho 浩:Hiroshi"
    ),
    female=_script(
        "花子:Hanako 陽子:Yoko 美咲:Misaki さくら:Sakura 由美:Yumi 愛:Ai 結衣:Yui 葵:Aoi "
        "恵子:Keiko ゆかり:Yukari カオリ:Kaori"
    ),
    last=_surnames(
        "山田:Yamada 佐藤:Sato 鈴木:Suzuki 高橋:Takahashi 田中:Tanaka 伊藤:Ito "
        "渡辺:Watanabe 中村:Nakamura 小林:Kobayashi 加藤:Kato 吉田:Yoshida "
        "山本:Yamamoto 松本:Matsumoto 井上:Inoue",
        script=True,
    ),
    plain_share=0.35,
)

_CN = NameSet(
    male=_script(
        "伟:Wei 强:Qiang 磊:Lei 军:Jun 洋:Yang 勇:Yong 杰:Jie 涛:Tao 浩然:Haoran 子轩:Zixuan"
    ),
    female=_script(
        "芳:Fang 娜:Na 敏:Min 静:Jing 丽:Li 秀英:Xiuying 婷:Ting 雪:Xue 欣怡:Xinyi 梓涵:Zihan"
    ),
    last=_surnames(
        "李:Li 王:Wang 张:Zhang 刘:Liu 陈:Chen 杨:Yang 黄:Huang 赵:Zhao 吴:Wu 周:Zhou "
        "徐:Xu 孙:Sun 马:Ma 朱:Zhu",
        script=True,
    ),
    plain_share=0.4,
)

_IL_HEBREW = NameSet(
    male=_script(
        "דוד:David יוסף:Yosef משה:Moshe אברהם:Avraham יונתן:Yonatan נועם:Noam איתי:Itai אורי:Uri"
    ),
    female=_script(
        "שרה:Sarah רחל:Rachel מיכל:Michal נועה:Noa תמר:Tamar יעל:Yael שירה:Shira אסתר:Esther"
    ),
    last=_surnames(
        "כהן:Cohen לוי:Levi מזרחי:Mizrahi פרץ:Peretz ביטון:Biton דהן:Dahan "
        "אברהם:Avraham פרידמן:Friedman שפירא:Shapira גולדברג:Goldberg",
        script=True,
    ),
    plain_share=0.4,
)

_IL_ARABIC = NameSet(
    male=_script("محمد:Mohammed أحمد:Ahmad يوسف:Yousef خالد:Khaled"),
    female=_script("فاطمة:Fatima مريم:Mariam ليلى:Layla رنا:Rana"),
    last=_surnames("خوري:Khoury حداد:Haddad منصور:Mansour عيسى:Issa", script=True),
    plain_share=0.45,
)

_BR = NameSet(
    male=_latin(
        "João José Antônio Francisco Carlos Paulo Pedro Lucas Luiz Marcos Gabriel "
        "Rafael Matheus Thiago"
    ),
    female=_latin(
        "Maria Ana Francisca Antônia Adriana Juliana Márcia Fernanda Patrícia Aline "
        "Letícia Beatriz Conceição"
    ),
    last=_surnames(
        "Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes "
        "Ribeiro Carvalho Araújo Simões Magalhães Gonçalves Conceição Assunção"
    ),
    plain_share=0.15,
)

_IN = NameSet(
    male=_script(
        "राहुल:Rahul अमित:Amit विजय:Vijay अर्जुन:Arjun संजय:Sanjay रोहन:Rohan आदित्य:Aditya विक्रम:Vikram"
    ),
    female=_script(
        "प्रिया:Priya अनीता:Anita पूजा:Pooja नेहा:Neha कविता:Kavita दीपिका:Deepika "
        "आशा:Asha सुनीता:Sunita"
    ),
    last=_surnames(
        "शर्मा:Sharma वर्मा:Verma गुप्ता:Gupta सिंह:Singh पटेल:Patel कुमार:Kumar "
        "मेहता:Mehta जोशी:Joshi अय्यर:Iyer रेड्डी:Reddy नायर:Nair",
        script=True,
    ),
    plain_share=0.85,
)

# --- Places ---------------------------------------------------------------------

_HOUSTON_STREETS = (
    "Westheimer Rd",
    "Montrose Blvd",
    "Heights Blvd",
    "Richmond Ave",
    "Kirby Dr",
    "Bellaire Blvd",
    "Washington Ave",
    "Shepherd Dr",
    "Bissonnet St",
    "Memorial Dr",
    "Yale St",
    "Studewood St",
    "Navigation Blvd",
    "Fannin St",
    "Main St",
    "W Alabama St",
    "Hillcroft Ave",
    "Gessner Rd",
    "Fondren Rd",
    "Holcombe Blvd",
    "N Durham Dr",
    "Dunlavy St",
    "Taft St",
    "Telephone Rd",
)

_US_STREETS = (
    "Main St",
    "Oak St",
    "Maple Ave",
    "Cedar Ln",
    "Pine St",
    "Elm St",
    "Park Ave",
    "Lake Dr",
    "Hillside Ave",
    "Washington St",
    "Lincoln Ave",
    "Jefferson St",
    "Madison Ave",
    "2nd St",
    "3rd Ave",
    "Church St",
    "Spring St",
    "Highland Ave",
    "Ridge Rd",
    "Meadow Ln",
    "River Rd",
    "Willow Way",
    "Magnolia St",
    "Sunset Blvd",
    "Franklin St",
    "Chestnut St",
    "Walnut St",
    "College Ave",
)


def _us(name, state, postcode, area_codes, weight, *, houston=False):
    return City(
        name,
        state,
        (postcode,),
        tuple((code + "555", 10) for code in area_codes.split()),
        weight,
        _HOUSTON_STREETS if houston else (),
        houston,
    )


# Area codes in use, each with the 555 exchange that films and books use.
_US_AREA_CODES = (
    "201 202 203 205 206 207 208 209 210 212 213 214 215 216 217 218 219 224 225 228 229 231 "
    "234 239 240 248 251 252 253 254 256 260 262 267 269 270 272 276 301 302 303 304 305 307 "
    "308 309 310 312 313 314 315 316 317 318 319 320 321 323 325 330 331 334 336 337 339 347 "
    "351 352 360 361 385 386 401 402 404 405 406 407 408 409 410 412 413 414 415 417 419 423 "
    "424 425 430 432 434 435 440 442 443 469 470 475 478 479 480 484 501 502 503 504 505 507 "
    "508 509 510 512 513 515 516 517 518 520 530 540 541 551 559 561 562 563 567 570 571 573 "
    "574 575 580 585 586 601 602 603 605 606 607 608 609 610 612 614 615 616 617 618 619 620 "
    "623 626 630 631 636 641 646 650 651 660 661 662 678 682 701 702 703 704 706 707 708 712 "
    "714 715 716 717 718 719 720 724 727 731 732 734 737 740 747 754 757 760 762 763 765 770 "
    "772 773 774 775 779 781 785 786 801 802 803 804 805 806 808 810 812 813 814 815 816 817 "
    "818 828 830 831 843 845 847 848 850 856 857 858 859 860 862 863 864 865 870 872 878 901 "
    "903 904 906 907 908 909 910 912 913 914 915 916 917 918 919 920 925 928 929 931 936 937 "
    "940 941 947 949 951 952 954 956 970 971 972 973 978 979 980 985 989"
)
_CA_AREA_CODES = (
    "204 226 236 249 250 289 306 343 365 367 403 416 418 431 437 438 450 506 514 519 548 579 "
    "581 587 604 613 639 647 672 705 709 742 778 780 782 807 819 825 867 873 902 905"
)


def _spare(area_codes: str) -> tuple[PhonePlan, ...]:
    return tuple((code + "555", 10) for code in area_codes.split())


_US = Country(
    code="US",
    weight=70.0,
    peoples=(
        (0.62, _US_ANGLO),
        (0.2, _US_HISPANIC),
        (0.07, _US_VIETNAMESE),
        (0.07, _US_ASIAN),
        (0.04, _US_MIDDLE_EAST),
    ),
    cities=(
        _us("Houston", "TX", "770##", "713 281 832 346", 30, houston=True),
        _us("Sugar Land", "TX", "7747#", "281 832", 3, houston=True),
        _us("Katy", "TX", "7749#", "281 832", 3, houston=True),
        _us("Pearland", "TX", "7758#", "281 713", 2, houston=True),
        _us("The Woodlands", "TX", "7738#", "281 832", 2, houston=True),
        _us("Pasadena", "TX", "7750#", "713 281", 1.5, houston=True),
        _us("Austin", "TX", "787##", "512", 5),
        _us("Dallas", "TX", "752##", "214", 5),
        _us("San Antonio", "TX", "782##", "210", 4),
        _us("New York", "NY", "100##", "212", 5),
        _us("Brooklyn", "NY", "112##", "718", 3),
        _us("Chicago", "IL", "606##", "312", 5),
        _us("Los Angeles", "CA", "900##", "213", 5),
        _us("San Francisco", "CA", "941##", "415", 3),
        _us("Seattle", "WA", "981##", "206", 3),
        _us("Miami", "FL", "331##", "305", 3),
        _us("Boston", "MA", "021##", "617", 3),
        _us("Atlanta", "GA", "303##", "404", 3),
        _us("Denver", "CO", "802##", "303", 2),
        _us("Phoenix", "AZ", "850##", "602", 2),
        _us("Portland", "OR", "972##", "503", 2),
        _us("Nashville", "TN", "372##", "615", 2),
        _us("New Orleans", "LA", "701##", "504", 2),
        _us("Raleigh", "NC", "276##", "919", 1.5),
    ),
    streets=_US_STREETS,
    street_format="{n} {s}",
    address_2=("Apt {n}", "Apt {a}{L}", "Unit {n}", "Suite {a}00", "# {n}"),
    address_2_share=0.25,
    mobiles=(),
    mobile_share=0.0,
    companies=(
        "Montrose Book Club",
        "Heights Yoga Studio",
        "Bayou City Catering LLC",
        "Gulf Coast Dental Group",
        "Rice Village Bakery",
        "Third Ward Arts Collective",
        "Lone Star Office Supply",
        "Magnolia Events",
        "Buffalo Bayou Kayak Tours",
        "Galleria Hair Studio",
        "Eastwood Community Garden",
        "Midtown Pilates",
        "Pecan Street Bed & Breakfast",
        "Cypress Creek Realty",
        "Hill Country Inn",
        "Red Oak Veterinary Clinic",
        "Brazos Valley Florist",
        "Sunbelt Insurance Agency",
    ),
    spare_phones=_spare(_US_AREA_CODES),
)

_CA_QC_STREETS = (
    "Rue Sainte-Catherine O",
    "Boulevard Saint-Laurent",
    "Rue Saint-Denis",
    "Avenue du Mont-Royal E",
    "Rue Ontario E",
    "Rue Wellington",
)

_CA = Country(
    code="CA",
    weight=6.0,
    peoples=((0.75, _CA_ENGLISH), (0.25, _CA_FRENCH)),
    cities=(
        City(
            "Toronto", "ON", ("M5V #@#", "M4C #@#", "M6G #@#"), (("416555", 10), ("647555", 10)), 5
        ),
        City("Vancouver", "BC", ("V6B #@#", "V5K #@#"), (("604555", 10),), 3),
        City("Montréal", "QC", ("H2X #@#", "H2J #@#"), (("514555", 10),), 3, _CA_QC_STREETS),
        City("Calgary", "AB", ("T2P #@#", "T3A #@#"), (("403555", 10),), 2),
        City("Ottawa", "ON", ("K1P #@#", "K2B #@#"), (("613555", 10),), 2),
        City("Halifax", "NS", ("B3H #@#", "B3K #@#"), (("902555", 10),), 1),
    ),
    streets=(
        "Queen St W",
        "King St E",
        "Yonge St",
        "Bloor St W",
        "Dundas St W",
        "Robson St",
        "Granville St",
        "Commercial Dr",
        "17 Ave SW",
        "Bank St",
        "Elgin St",
        "Spring Garden Rd",
        "Barrington St",
    ),
    street_format="{n} {s}",
    address_2=("Unit {n}", "Apt {n}", "Suite {a}00"),
    address_2_share=0.25,
    mobiles=(),
    mobile_share=0.0,
    companies=("Maple Leaf Tea Room", "Café Rive-Gauche", "Northern Lights Yoga"),
    spare_phones=_spare(_CA_AREA_CODES),
)

_GB_COUNTRY = Country(
    code="GB",
    weight=4.0,
    peoples=((1.0, _GB),),
    cities=(
        City(
            "London",
            "",
            ("N1 #@@", "SE1 #@@", "E2 #@@", "NW1 #@@", "SW9 #@@"),
            (("2079460", 10),),
            6,
        ),
        City("Birmingham", "", ("B1 #@@", "B15 #@@"), (("1214960", 10),), 1.5),
        City("Leeds", "", ("LS1 #@@", "LS6 #@@"), (("1134960", 10),), 1),
        City("Sheffield", "", ("S1 #@@", "S10 #@@"), (("1144960", 10),), 1),
        City("Leicester", "", ("LE1 #@@",), (("1164960", 10),), 0.7),
        City("Bristol", "", ("BS1 #@@", "BS8 #@@"), (("1174960", 10),), 1),
        City("Reading", "", ("RG1 #@@",), (("1184960", 10),), 0.6),
        City("Edinburgh", "", ("EH1 #@@", "EH3 #@@"), (("1314960", 10),), 1),
        City("Glasgow", "", ("G1 #@@", "G12 #@@"), (("1414960", 10),), 1),
        City("Liverpool", "", ("L1 #@@", "L17 #@@"), (("1514960", 10),), 0.8),
        City("Manchester", "", ("M1 #@@", "M20 #@@"), (("1614960", 10),), 1.5),
        City("Newcastle upon Tyne", "", ("NE1 #@@",), (("1914980", 10),), 0.7),
        City("Cardiff", "", ("CF10 #@@", "CF24 #@@"), (("2920180", 10),), 0.7),
        City("Belfast", "", ("BT1 #@@", "BT9 #@@"), (("2896496", 10),), 0.5),
    ),
    streets=(
        "High Street",
        "Station Road",
        "Church Lane",
        "Victoria Road",
        "Park Road",
        "Green Lane",
        "Manor Road",
        "Kings Road",
        "Queen Street",
        "Mill Lane",
        "The Crescent",
        "Albert Road",
        "Grove Terrace",
        "Orchard Close",
    ),
    street_format="{n} {s}",
    address_2=("Flat {a}", "Flat {a}{L}", "Unit {n}"),
    address_2_share=0.2,
    mobiles=(("7400", 10), ("7411", 10), ("7981", 10)),
    mobile_share=0.3,
    companies=("The Kettle & Crumpet Ltd", "Brambleside Tea Rooms", "Northern Quarter Books"),
)

_DE_COUNTRY = Country(
    code="DE",
    weight=3.0,
    peoples=((1.0, _DE),),
    cities=(
        City("Berlin", "", ("10###", "12###"), (("30", 10),), 4),
        City("München", "", ("80###", "81###"), (("89", 10),), 2.5),
        City("Hamburg", "", ("20###", "22###"), (("40", 10),), 2.5),
        City("Köln", "", ("50###", "51###"), (("221", 10),), 1.5),
        City("Frankfurt am Main", "", ("60###",), (("69", 10),), 1.5),
        City("Leipzig", "", ("04###",), (("341", 10),), 1),
    ),
    streets=(
        "Hauptstraße",
        "Schulstraße",
        "Gartenstraße",
        "Bahnhofstraße",
        "Dorfstraße",
        "Bergstraße",
        "Lindenstraße",
        "Kirchstraße",
        "Goethestraße",
        "Schillerstraße",
        "Friedrichstraße",
        "Am Markt",
        "Mühlenweg",
        "Rosenweg",
        "Königsallee",
    ),
    street_format="{s} {n}",
    address_2=("{a}. OG", "Hinterhaus", "c/o Praxis am Markt"),
    address_2_share=0.1,
    mobiles=(("151", 11), ("160", 10), ("170", 10), ("176", 11)),
    mobile_share=0.5,
    companies=("Teehaus am Markt GmbH", "Müller & Söhne KG", "Café Körnchen"),
)

_FR_COUNTRY = Country(
    code="FR",
    weight=2.0,
    peoples=((1.0, _FR),),
    cities=(
        City("Paris", "", ("7500#", "7501#"), (("1", 9),), 4),
        City("Lyon", "", ("6900#",), (("47", 9),), 1.5),
        City("Marseille", "", ("1300#", "1301#"), (("49", 9),), 1.5),
        City("Toulouse", "", ("3100#", "3120#"), (("561", 9),), 1),
        City("Bordeaux", "", ("3300#",), (("56", 9),), 1),
        City("Lille", "", ("5900#",), (("320", 9),), 1),
        City("Nantes", "", ("4400#",), (("240", 9),), 1),
    ),
    streets=(
        "rue de la République",
        "rue Victor Hugo",
        "avenue Jean Jaurès",
        "rue Pasteur",
        "boulevard Gambetta",
        "rue du Moulin",
        "place de l'Église",
        "rue des Écoles",
        "avenue de la Libération",
        "rue Émile Zola",
        "allée des Tilleuls",
        "chemin des Vignes",
        "quai des Chartrons",
    ),
    street_format="{n} {s}",
    address_2=("Bâtiment {L}", "Appartement {n}", "Résidence Les Pins", "Escalier {L}"),
    address_2_share=0.15,
    mobiles=(("61", 9), ("62", 9), ("66", 9), ("67", 9), ("77", 9), ("78", 9)),
    mobile_share=0.55,
    companies=("Salon de Thé Lumière SARL", "Épicerie Fine Gaëlle"),
)

_ES_COUNTRY = Country(
    code="ES",
    weight=1.5,
    peoples=((1.0, _ES),),
    cities=(
        City("Madrid", "M", ("280##",), (("91", 9),), 3),
        City(
            "Barcelona",
            "B",
            ("080##",),
            (("93", 9),),
            2.5,
            ("Carrer de Mallorca", "Carrer d'Aragó", "Passeig de Gràcia", "Carrer de Provença"),
        ),
        City("Valencia", "V", ("460##",), (("96", 9),), 1),
        City("Sevilla", "SE", ("410##",), (("95", 9),), 1),
        City("Bilbao", "BI", ("480##",), (("944", 9),), 0.7),
        City("Málaga", "MA", ("290##",), (("952", 9),), 0.7),
    ),
    streets=(
        "Calle Mayor",
        "Calle de Alcalá",
        "Gran Vía",
        "Avenida de la Constitución",
        "Calle Real",
        "Plaza de España",
        "Calle del Sol",
        "Paseo de la Castellana",
        "Calle Nueva",
        "Avenida de Andalucía",
        "Calle de la Peña",
    ),
    street_format="{s}, {n}",
    address_2=("{a}º {L}", "{a}º izq.", "{a}º dcha.", "Bajo"),
    address_2_share=0.45,
    mobiles=(("61", 9), ("62", 9), ("65", 9), ("66", 9), ("68", 9)),
    mobile_share=0.6,
    companies=("Té y Café Ibáñez S.L.",),
)

_PL_COUNTRY = Country(
    code="PL",
    weight=1.2,
    peoples=((1.0, _PL),),
    cities=(
        City("Warszawa", "", ("00-###", "02-###"), (("22", 9),), 3),
        City("Kraków", "", ("30-###", "31-###"), (("12", 9),), 2),
        City("Gdańsk", "", ("80-###",), (("58", 9),), 1),
        City("Wrocław", "", ("50-###",), (("71", 9),), 1),
        City("Poznań", "", ("60-###",), (("61", 9),), 1),
        City("Łódź", "", ("90-###",), (("42", 9),), 1),
    ),
    streets=(
        "ul. Marszałkowska",
        "ul. Piotrkowska",
        "ul. Długa",
        "ul. Floriańska",
        "ul. Świętojańska",
        "ul. Mickiewicza",
        "ul. Słowackiego",
        "ul. Kościuszki",
        "ul. Ogrodowa",
        "ul. Lipowa",
        "al. Jerozolimskie",
        "ul. Żeromskiego",
    ),
    street_format="{s} {n}/{a}",
    address_2=(),
    address_2_share=0.0,
    mobiles=(("50", 9), ("60", 9), ("69", 9)),
    mobile_share=0.65,
    companies=("Herbaciarnia Pod Różą",),
)

_SE_COUNTRY = Country(
    code="SE",
    weight=0.8,
    peoples=((1.0, _SE),),
    cities=(
        City("Stockholm", "", ("11# ##",), (("8", 9),), 3),
        City("Göteborg", "", ("41# ##",), (("31", 9),), 1.5),
        City("Malmö", "", ("21# ##",), (("40", 9),), 1),
        City("Uppsala", "", ("75# ##",), (("18", 9),), 0.7),
    ),
    streets=(
        "Storgatan",
        "Drottninggatan",
        "Kungsgatan",
        "Vasagatan",
        "Sveavägen",
        "Götgatan",
        "Linnégatan",
        "Södra Förstadsgatan",
        "Östra Hamngatan",
    ),
    street_format="{s} {n}",
    address_2=("Lgh 1{a}0{b}", "c/o {L}. Ek"),
    address_2_share=0.3,
    mobiles=(("70", 9), ("72", 9), ("73", 9)),
    mobile_share=0.6,
    companies=("Fika & Co AB",),
)

_DK_COUNTRY = Country(
    code="DK",
    weight=0.4,
    peoples=((1.0, _DK),),
    cities=(
        City("København", "", ("1###", "2###"), (("331", 8), ("335", 8)), 3),
        City("Aarhus", "", ("8000", "82##"), (("861", 8),), 1),
        City("Odense", "", ("5000", "52##"), (("662", 8),), 0.7),
    ),
    streets=(
        "Vesterbrogade",
        "Nørrebrogade",
        "Østerbrogade",
        "Amagerbrogade",
        "Søndergade",
        "Jægersborggade",
        "Åboulevard",
        "Vestergade",
    ),
    street_format="{s} {n}",
    address_2=("{a}. th.", "{a}. tv.", "st. th."),
    address_2_share=0.5,
    mobiles=(("201", 8), ("401", 8), ("502", 8)),
    mobile_share=0.6,
    companies=(),
)

_GR_COUNTRY = Country(
    code="GR",
    weight=0.8,
    peoples=((1.0, _GR),),
    cities=(
        City("Athens", "", ("105 ##", "106 ##", "114 ##"), (("21", 10),), 3),
        City("Thessaloniki", "", ("546 ##",), (("231", 10),), 1.5),
        City("Patras", "", ("262 ##",), (("261", 10),), 0.7),
    ),
    streets=(
        "Ermou",
        "Panepistimiou",
        "Vasilissis Sofias",
        "Tsimiski",
        "Egnatia",
        "Akadimias",
        "Stadiou",
        "Patission",
        "Agiou Nikolaou",
    ),
    street_format="{s} {n}",
    address_2=("{a}os orofos",),
    address_2_share=0.3,
    mobiles=(("69", 10),),
    mobile_share=0.6,
    companies=(),
)

_RU_COUNTRY = Country(
    code="RU",
    weight=0.8,
    peoples=((1.0, _RU),),
    cities=(
        City("Moscow", "", ("101###", "119###", "125###"), (("495", 10), ("499", 10)), 3),
        City("Saint Petersburg", "", ("190###", "191###", "197###"), (("812", 10),), 2),
        City("Kazan", "", ("420###",), (("843", 10),), 0.7),
        City("Novosibirsk", "", ("630###",), (("383", 10),), 0.7),
    ),
    streets=(
        "ul. Tverskaya",
        "Nevsky pr.",
        "ul. Arbat",
        "ul. Baumana",
        "Krasny pr.",
        "ul. Lenina",
        "ul. Sadovaya",
        "ul. Pushkina",
        "Leninsky pr.",
    ),
    street_format="{s}, d. {n}",
    address_2=("kv. {n}",),
    address_2_share=0.6,
    mobiles=(("916", 10), ("926", 10), ("903", 10)),
    mobile_share=0.6,
    companies=(),
)

_UA_COUNTRY = Country(
    code="UA",
    weight=0.8,
    peoples=((1.0, _UA),),
    cities=(
        City("Kyiv", "", ("01###", "02###", "03###", "04###"), (("44", 9),), 3),
        City("Lviv", "", ("79###",), (("322", 9),), 1.5),
        City("Odesa", "", ("65###",), (("48", 9),), 1),
        City("Kharkiv", "", ("61###",), (("57", 9),), 1),
    ),
    streets=(
        "vul. Khreshchatyk",
        "vul. Shevchenka",
        "vul. Sahaidachnoho",
        "prosp. Peremohy",
        "vul. Derybasivska",
        "vul. Sumska",
        "vul. Franka",
        "vul. Lesi Ukrainky",
    ),
    street_format="{s}, {n}",
    address_2=("kv. {n}",),
    address_2_share=0.6,
    mobiles=(("50", 9), ("67", 9), ("93", 9)),
    mobile_share=0.65,
    companies=(),
)

_JP_COUNTRY = Country(
    code="JP",
    weight=1.5,
    peoples=((1.0, _JP),),
    cities=(
        City(
            "Shibuya-ku",
            "JP13",
            ("150-00##",),
            (("33", 9), ("35", 9)),
            2,
            ("Jingumae", "Ebisu", "Udagawacho", "Tomigaya"),
        ),
        City(
            "Setagaya-ku",
            "JP13",
            ("154-00##",),
            (("33", 9), ("35", 9)),
            1.5,
            ("Sangenjaya", "Kitazawa", "Tamagawa"),
        ),
        City(
            "Minato-ku",
            "JP13",
            ("106-00##",),
            (("33", 9), ("35", 9)),
            1.5,
            ("Azabudai", "Roppongi", "Shirokane"),
        ),
        City(
            "Osaka",
            "JP27",
            ("530-00##", "542-00##"),
            (("6", 9),),
            2,
            ("Umeda", "Namba", "Shinsaibashi"),
        ),
        City("Kyoto", "JP26", ("605-00##",), (("75", 9),), 1, ("Gion", "Higashiyama", "Sanjo")),
        City("Sapporo", "JP01", ("060-00##",), (("112", 9),), 0.7, ("Susukino", "Odori Nishi")),
        City("Fukuoka", "JP40", ("810-00##",), (("92", 9),), 0.7, ("Tenjin", "Daimyo")),
    ),
    streets=("Honcho",),
    street_format="{a}-{b}-{n} {s}",
    address_2=("Room {a}0{b}", "{s} Mansion {a}0{b}"),
    address_2_share=0.5,
    mobiles=(("901", 10), ("902", 10), ("80", 10), ("703", 10)),
    mobile_share=0.55,
    companies=("株式会社 山田商店", "Sakura Tea Salon"),
)

_CN_COUNTRY = Country(
    code="CN",
    weight=1.5,
    peoples=((1.0, _CN),),
    cities=(
        City("Beijing", "", ("1000##", "1001##"), (("105", 10), ("106", 10)), 2),
        City("Shanghai", "", ("2000##", "2000##"), (("212", 10), ("215", 10)), 2),
        City("Guangzhou", "", ("5100##",), (("20", 10),), 1),
        City("Shenzhen", "", ("5180##",), (("755", 11),), 1),
        City("Chengdu", "", ("6100##",), (("28", 10),), 1),
    ),
    streets=(
        "Jianguo Rd",
        "Nanjing Rd (W)",
        "Huaihai Rd (M)",
        "Tianhe Rd",
        "Shennan Blvd",
        "Chunxi Rd",
        "Wangfujing St",
        "Renmin Rd",
    ),
    street_format="No. {n} {s}",
    address_2=("Room {a}0{b}", "Apt {a}{b}0{a}"),
    address_2_share=0.6,
    mobiles=(("138", 11), ("139", 11), ("186", 11)),
    mobile_share=0.75,
    companies=("上海茶语贸易有限公司",),
)

_IL_COUNTRY = Country(
    code="IL",
    weight=0.8,
    peoples=((0.8, _IL_HEBREW), (0.2, _IL_ARABIC)),
    cities=(
        City("Jerusalem", "", ("91#####", "93#####"), (("26", 8),), 1.5),
        City("Tel Aviv-Yafo", "", ("61#####", "64#####"), (("3", 8),), 2),
        City("Haifa", "", ("31#####", "33#####"), (("4", 8),), 1),
        City("Beersheba", "", ("84#####",), (("8", 8),), 0.5),
    ),
    streets=(
        "Jaffa St",
        "Ben Yehuda St",
        "Dizengoff St",
        "Rothschild Blvd",
        "Herzl St",
        "Allenby St",
        "HaNassi Blvd",
        "Rager Blvd",
        "Emek Refaim St",
    ),
    street_format="{s} {n}",
    address_2=("Apt {a}", "Apt {n}"),
    address_2_share=0.5,
    mobiles=(("502", 9), ("524", 9), ("544", 9)),
    mobile_share=0.6,
    companies=(),
)

_BR_COUNTRY = Country(
    code="BR",
    weight=1.5,
    peoples=((1.0, _BR),),
    cities=(
        City(
            "São Paulo",
            "SP",
            ("01###-###", "04###-###", "05###-###"),
            (("119", 11), ("113", 10)),
            3,
        ),
        City(
            "Rio de Janeiro",
            "RJ",
            ("22###-###",),
            (("219", 11), ("212", 10)),
            2,
            ("Avenida Atlântica", "Rua Visconde de Pirajá", "Rua Barata Ribeiro"),
        ),
        City("Belo Horizonte", "MG", ("30###-###",), (("319", 11),), 1),
        City("Curitiba", "PR", ("80###-###",), (("419", 11),), 1),
        City("Porto Alegre", "RS", ("90###-###",), (("519", 11),), 1),
    ),
    streets=(
        "Rua Augusta",
        "Avenida Paulista",
        "Rua Oscar Freire",
        "Rua das Flores",
        "Avenida Afonso Pena",
        "Rua XV de Novembro",
        "Rua dos Andradas",
        "Rua da Consolação",
        "Avenida Brasil",
    ),
    street_format="{s}, {n}",
    address_2=("Apto {a}{b}", "Casa {a}", "Bloco {L}, Apto {a}0{b}"),
    address_2_share=0.4,
    mobiles=(),
    mobile_share=0.0,
    companies=("Empório Café Paulista Ltda.",),
)

_IN_COUNTRY = Country(
    code="IN",
    weight=2.0,
    peoples=((1.0, _IN),),
    cities=(
        City("New Delhi", "DL", ("1100##",), (("112", 10), ("114", 10)), 2),
        City("Mumbai", "MH", ("4000##", "4000##"), (("222", 10), ("226", 10)), 2),
        City("Bengaluru", "KA", ("5600##",), (("80", 10),), 2),
        City("Chennai", "TN", ("6000##",), (("442", 10), ("444", 10)), 1),
        City("Kolkata", "WB", ("7000##",), (("332", 10),), 1),
    ),
    streets=(
        "MG Road",
        "Linking Road",
        "Brigade Road",
        "Park Street",
        "Anna Salai",
        "Nehru Place",
        "Hill Road",
        "Residency Road",
        "Lajpat Nagar",
    ),
    street_format="{n} {s}",
    address_2=("Flat {a}0{b}", "Flat {a}0{b}, {L} Wing"),
    address_2_share=0.5,
    mobiles=(("98", 10), ("99", 10), ("91", 10)),
    mobile_share=0.8,
    companies=("Chai Point Traders",),
)

COUNTRIES: tuple[Country, ...] = (
    _US,
    _CA,
    _GB_COUNTRY,
    _DE_COUNTRY,
    _FR_COUNTRY,
    _ES_COUNTRY,
    _PL_COUNTRY,
    _SE_COUNTRY,
    _DK_COUNTRY,
    _GR_COUNTRY,
    _RU_COUNTRY,
    _UA_COUNTRY,
    _JP_COUNTRY,
    _CN_COUNTRY,
    _IL_COUNTRY,
    _BR_COUNTRY,
    _IN_COUNTRY,
)

# --- Emails ---------------------------------------------------------------------

# Only the domains reserved for examples (RFC 2606), so no address can reach anyone.
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("example.com", 45),
    ("example.org", 20),
    ("example.net", 20),
    ("mail.example.com", 8),
    ("post.example.org", 4),
    ("inbox.example.net", 3),
)

EMAIL_HANDLES = (
    "teafan",
    "leafy",
    "chai.lover",
    "matcha",
    "brewmaster",
    "kettle",
    "oolong",
    "earlgrey",
    "darjeeling",
    "bayou",
    "coffeesnob",
    "steeped",
    "teatime",
    "cuppa",
    "mocha",
    "latte",
    "teapot",
    "greenleaf",
    "dragonwell",
    "sencha",
    "roastie",
    "pourover",
    "bluebonnet",
    "astros.fan",
    "gulfbreeze",
)

# --- Catalogue ------------------------------------------------------------------

# (suffix for the SKU, label for the name, price factor against the base size)
SIZES: dict[str, tuple[tuple[str, str, float], ...]] = {
    "tea": (("100", "100 g", 1.0), ("50", "50 g", 0.56), ("250", "250 g", 2.2)),
    "matcha": (("30", "30 g", 1.0), ("100", "100 g", 2.9)),
    "coffee": (
        ("12W", "Whole Bean, 12 oz", 1.0),
        ("12G", "Ground, 12 oz", 1.0),
        ("32W", "Whole Bean, 2 lb", 2.4),
    ),
    "single": (("", "", 1.0),),
}

# (SKU prefix, code, name, category, price of the base size in dollars, sizes)
CATALOGUE: tuple[tuple[str, str, str, str, float, str], ...] = (
    ("TEA", "EB", "English Breakfast", "Black Tea", 8.5, "tea"),
    ("COF", "HMB", "Houston Morning Blend", "Coffee", 14.5, "coffee"),
    ("WARE", "GTP-600", "Glass Teapot with Infuser, 600 ml", "Teaware", 32.0, "single"),
    ("TEA", "SEN", "Sencha Fukamushi", "Green Tea", 12.0, "tea"),
    ("TEA", "EG", "Earl Grey", "Black Tea", 9.0, "tea"),
    ("TEA", "TGY", "Tieguanyin", "Oolong Tea", 16.0, "tea"),
    ("TEA", "ROO", "Rooibos Vanilla", "Herbal & Rooibos", 8.0, "tea"),
    ("COF", "ESM", "Espresso Montrose", "Coffee", 15.5, "coffee"),
    ("GEAR", "V60", "Ceramic Pour-Over Dripper", "Coffee Gear", 24.0, "single"),
    ("PAN", "HON-12", "Texas Wildflower Honey, 12 oz", "Pantry & Gifts", 11.0, "single"),
    ("TEA", "CHA", "Masala Chai", "Black Tea", 9.5, "tea"),
    ("TEA", "GYO", "Gyokuro 玉露", "Green Tea", 24.0, "tea"),
    ("TEA", "SN", "Silver Needle", "White Tea", 22.0, "tea"),
    ("COF", "ETY", "Ethiopia Yirgacheffe", "Coffee", 17.5, "coffee"),
    ("WARE", "INF-01", "Stainless Tea Infuser Basket", "Teaware", 9.5, "single"),
    ("TEA", "PUR", "Ripe Pu-erh", "Pu-erh", 14.0, "tea"),
    ("TEA", "HHC", "Houston Heat Chai", "Black Tea", 10.5, "tea"),
    ("TEA", "JAS", "Jasmine Pearls", "Green Tea", 18.0, "tea"),
    ("TEA", "CAM", "Egyptian Chamomile", "Herbal & Rooibos", 7.5, "tea"),
    ("COF", "COL", "Colombia Huila", "Coffee", 16.0, "coffee"),
    ("WARE", "KYU-350", "Tokoname Kyusu Teapot, 350 ml", "Teaware", 68.0, "single"),
    ("TEA", "MAT", "Ceremonial Matcha", "Green Tea", 26.0, "matcha"),
    ("TEA", "DHP", "Da Hong Pao", "Oolong Tea", 21.0, "tea"),
    ("TEA", "ASM", "Assam Golden Tips", "Black Tea", 11.0, "tea"),
    ("PAN", "SMP-6", "Tea Sampler Gift Box, 6 teas", "Pantry & Gifts", 36.0, "single"),
    ("COF", "CRT", "Costa Rica Tarrazú", "Coffee", 17.0, "coffee"),
    ("TEA", "GEN", "Genmaicha", "Green Tea", 9.0, "tea"),
    ("TEA", "HIB", "Hibiscus Berry", "Herbal & Rooibos", 8.0, "tea"),
    ("GEAR", "FP-1L", "French Press, 1 l", "Coffee Gear", 35.0, "single"),
    ("TEA", "DFF", "Darjeeling First Flush", "Black Tea", 19.0, "tea"),
    ("TEA", "WP", "White Peony (Bai Mu Dan)", "White Tea", 15.0, "tea"),
    ("COF", "SUM", "Sumatra Mandheling", "Coffee", 16.5, "coffee"),
    ("WARE", "TET-800", "Cast Iron Tetsubin 鉄瓶, 800 ml", "Teaware", 89.0, "single"),
    ("TEA", "LAP", "Lapsang Souchong", "Black Tea", 11.5, "tea"),
    ("TEA", "DW", "Dragon Well 龙井", "Green Tea", 20.0, "tea"),
    ("TEA", "PEP", "Oregon Peppermint", "Herbal & Rooibos", 7.0, "tea"),
    ("COF", "DEC", "Swiss Water Decaf", "Coffee", 16.0, "coffee"),
    ("GEAR", "KET-GN", "Gooseneck Kettle, 1 l", "Coffee Gear", 54.0, "single"),
    ("TEA", "OB", "Oriental Beauty", "Oolong Tea", 23.0, "tea"),
    ("TEA", "KEE", "Keemun Mao Feng", "Black Tea", 12.5, "tea"),
    ("PAN", "MUG-BL", "Bayou Leaf Stoneware Mug", "Pantry & Gifts", 16.0, "single"),
    ("TEA", "HOJ", "Hōjicha", "Green Tea", 10.0, "tea"),
    ("TEA", "MAG", "Magnolia Dream (house blend)", "Herbal & Rooibos", 9.5, "tea"),
    ("COF", "CDO", "Café de Olla", "Coffee", 15.0, "coffee"),
    ("WARE", "GAI-01", "Porcelain Gaiwan, 150 ml", "Teaware", 22.0, "single"),
    ("TEA", "SPC", "Sheng Pu-erh Cake 2019", "Pu-erh", 28.0, "tea"),
    ("TEA", "CBR", "Crème Brûlée Rooibos", "Herbal & Rooibos", 8.5, "tea"),
    ("TEA", "MO", "Milk Oolong (Jin Xuan)", "Oolong Tea", 15.0, "tea"),
    ("COF", "CHI", "New Orleans Chicory Blend", "Coffee", 13.5, "coffee"),
    ("GEAR", "GRN-H", "Hand Burr Grinder", "Coffee Gear", 48.0, "single"),
    ("TEA", "IB", "Irish Breakfast", "Black Tea", 8.5, "tea"),
    ("TEA", "GUN", "Gunpowder Green", "Green Tea", 7.5, "tea"),
    ("TEA", "YM", "Yerba Mate Verde", "Herbal & Rooibos", 7.5, "tea"),
    ("COF", "KEN", "Kenya AA Nyeri", "Coffee", 18.5, "coffee"),
    ("WARE", "CHS-80", "Bamboo Matcha Whisk (Chasen)", "Teaware", 19.0, "single"),
    ("WARE", "CHW-01", "Matcha Bowl (Chawan)", "Teaware", 38.0, "single"),
    ("TEA", "YUN", "Yunnan Gold", "Black Tea", 13.0, "tea"),
    ("TEA", "MCU", "Culinary Matcha", "Green Tea", 12.0, "matcha"),
    ("COF", "BRA", "Brazil Cerrado", "Coffee", 14.0, "coffee"),
    ("GEAR", "FLT-100", "Paper Filters, pack of 100", "Coffee Gear", 6.5, "single"),
    ("PAN", "TIN-100", "Airtight Tea Tin, 100 g", "Pantry & Gifts", 8.0, "single"),
    ("TEA", "RC", "Russian Caravan", "Black Tea", 10.0, "tea"),
    ("TEA", "BB", "Bayou Berry (house blend)", "Herbal & Rooibos", 8.5, "tea"),
    ("COF", "GUA", "Guatemala Antigua", "Coffee", 16.5, "coffee"),
    ("PAN", "TUM-16", "Insulated Travel Tumbler, 16 oz", "Pantry & Gifts", 27.0, "single"),
    ("GEAR", "SCL-01", "Digital Brewing Scale", "Coffee Gear", 29.0, "single"),
)

# Origins for limited lots, used when a shop asks for more products than the catalogue.
LOT_ORIGINS = (
    ("TEA", "Nilgiri Estate", "Black Tea", 13.0),
    ("COF", "Huehuetenango Microlot", "Coffee", 19.0),
    ("TEA", "Wuyi Rock Oolong", "Oolong Tea", 24.0),
    ("COF", "Yemen Haraz", "Coffee", 29.0),
    ("TEA", "Uji Tencha", "Green Tea", 27.0),
    ("TEA", "Nepal Himalayan Gold", "Black Tea", 17.0),
)

# --- Orders ---------------------------------------------------------------------

CUSTOMER_NOTES = (
    "Please leave the parcel at the back door.",
    "It's a gift, please don't put prices on the packing slip.",
    "Call me when you're outside, the doorbell doesn't work.",
    "Could you add a sample of the new oolong if you have one?",
    "Ground for a French press, please.",
    "Please pack the tea tin separately, last one arrived dented.",
    "Happy birthday Mom! Love, J.",
    "Leave with the front desk / concierge.",
    "No rush, I'll pick it up Saturday.",
    "Please ship together with my previous order if it hasn't gone out yet.",
    "Deliver after 5pm please.",
    "Bitte beim Nachbarn im Erdgeschoss abgeben.",
    "Merci de laisser le colis chez la gardienne.",
    "Por favor, dejar en portería.",
    "不在の場合は宅配ボックスへお願いします。",
    "Пожалуйста, позвоните за час до доставки.",
    "Gate code is 4471#.",
    "Is the Gyokuro from this year's harvest?",
)
